"""The booklet's forms (Flask-WTF: every one carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    identifiant = StringField("Identifiant", validators=[DataRequired("Saisissez votre identifiant."),
                                                         Length(max=64)])
    passcode = PasswordField("Mot de Passe ou Passcode OTP",
                             validators=[DataRequired("Saisissez votre passcode."), Length(max=32)])


class NewPinForm(FlaskForm):
    pin = PasswordField("Saisissez votre nouveau code PIN, contenant de 4 à 6 chiffres:",
                        validators=[DataRequired("Saisissez un code PIN."), Length(max=32)])
    # Only presence and a size bound here: the PIN policy (length, digits, twice the same, not trivial) is the
    # verifier's, told in French by the view.
    confirm = PasswordField("Confirmez votre nouveau code PIN",
                            validators=[DataRequired("Confirmez le code PIN."), Length(max=32)])


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
