"""The booklet's forms (Flask-WTF: every one carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

DIGITS = Regexp(r"^[0-9]*$", message="Saisissez uniquement des chiffres.")


class LoginForm(FlaskForm):
    identifiant = StringField("Identifiant", validators=[DataRequired("Saisissez votre identifiant."),
                                                         Length(max=64)])
    passcode = PasswordField("Mot de Passe ou Passcode OTP",
                             validators=[DataRequired("Saisissez votre passcode."), Length(max=32)])


class NewPinForm(FlaskForm):
    pin = PasswordField("Saisissez votre nouveau code PIN, contenant de 4 à 6 chiffres:",
                        validators=[DataRequired("Saisissez un code PIN."), Length(4, 6, "Le code PIN contient de 4 "
                                    "à 6 chiffres."), DIGITS])
    confirm = PasswordField("Confirmez votre nouveau code PIN",
                            validators=[DataRequired("Confirmez le code PIN."), Length(max=6)])


class PasscodeForm(FlaskForm):
    passcode = PasswordField("Attendez que le code de votre clé change, puis saisissez votre PASSCODE:",
                             validators=[DataRequired("Saisissez votre passcode."), Length(max=32)])


class NextCodeForm(FlaskForm):
    code = PasswordField("Attendez que le code de votre clé change, puis saisissez les 6 chiffres affichés:",
                         validators=[DataRequired("Saisissez le code affiché par votre clé."), Length(max=16)])


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token (logout, buttons)."""


class RosterForm(FlaskForm):
    fichier = FileField("Fichier CSV", validators=[FileRequired("Choisissez un fichier CSV.")])
