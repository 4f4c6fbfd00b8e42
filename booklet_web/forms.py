"""The booklet's forms (Flask-WTF: every one carries its CSRF token) and the strict reading of ids."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

#: the largest id a URL or a form may name: PostgreSQL's ``integer`` (SQLite's are wider); a larger one names nothing
MAX_ID = 2**31 - 1
#: the URL converter of every id in a route: digits without a sign, at most MAX_ID, so "-1", "1e3" or 10**30 are
#: a 404, never a database overflow (a 500)
URL_ID = f"int(max={MAX_ID})"
_ID = re.compile(r"^[0-9]{1,10}$")


def parse_id(value: object) -> int | None:
    """An id from a query string or a form: 1 to 10 ASCII digits, at most MAX_ID; None for anything else
    (Python's int() would take " 7", "+7", "7_0" or Unicode digits)."""
    if not isinstance(value, str) or not _ID.match(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


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


class TokenImportForm(FlaskForm):
    fichier = FileField("Fichier PSKC ou CSV", validators=[FileRequired("Choisissez un fichier PSKC ou CSV.")])
    mot_de_passe = PasswordField("Mot de passe du fichier PSKC (s'il est chiffré par mot de passe)",
                                 validators=[Length(max=200)])
    cle = PasswordField("Clé pré-partagée du fichier PSKC, en hexadécimal (s'il est chiffré par une clé)",
                        validators=[Length(max=200)])
