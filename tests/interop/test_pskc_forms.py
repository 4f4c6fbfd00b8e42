"""The forms in which tools write the same PSKC facts: each reads the same; what cannot be read is one French line."""

from __future__ import annotations

import base64

import pytest

from verifier.errors import ImportFileError
from verifier.interchange import read_token_file

SECRET = bytes(range(1, 33))


def pskc(suite: str = "<Suite>SHA256</Suite>", drift: str = "1", tag=lambda name: name, period: str = "60") -> str:
    t = tag
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{t('KeyContainer')} {t('Version')}="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
 <{t('KeyPackage')}><{t('DeviceInfo')}><{t('SerialNo')}>JT-FORM</{t('SerialNo')}></{t('DeviceInfo')}>
  <{t('Key')} {t('Id')}="JT-FORM" {t('Algorithm')}="urn:ietf:params:xml:ns:keyprov:pskc:totp">
   <{t('AlgorithmParameters')}>{suite}<{t('ResponseFormat')} {t('Length')}="8" {t('Encoding')}="DECIMAL"/>
   </{t('AlgorithmParameters')}>
   <{t('Data')}><{t('Secret')}><{t('PlainValue')}>{base64.b64encode(SECRET).decode()}</{t('PlainValue')}>
    </{t('Secret')}><{t('TimeInterval')}><{t('PlainValue')}>{period}</{t('PlainValue')}></{t('TimeInterval')}>
    <{t('TimeDrift')}><{t('PlainValue')}>{drift}</{t('PlainValue')}></{t('TimeDrift')}></{t('Data')}>
  </{t('Key')}></{t('KeyPackage')}></{t('KeyContainer')}>"""


FORMS = {
    "RFC 6030": pskc(),
    "lower-case names (privacyIDEA)": pskc(suite='<suite hashalgo="sha256"/>', tag=str.lower),
    "upper-case names": pskc(suite="<SUITE>sha256</SUITE>", tag=str.upper),
    "hashalgo attribute only": pskc(suite='<Suite hashalgo="SHA256"></Suite>'),
    "Jeton 0.1 export (attribute and HMAC- text)": pskc(suite='<Suite hashalgo="sha256">HMAC-SHA256</Suite>'),
    "python-pskc HMAC- text": pskc(suite="<Suite>HMAC-SHA256</Suite>"),
    "drift in seconds as privacyIDEA writes it": pskc(drift="60.0"),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_reads_as_the_same_token(tmp_path, form):
    path = tmp_path / "t.pskc"
    path.write_text(FORMS[form])
    (record,) = read_token_file(path)
    assert (record.serial, record.secret, record.algo, record.digits, record.period, record.drift) == (
        "JT-FORM", SECRET, "sha256", 8, 60, 1)


@pytest.mark.parametrize(("text", "french"), [
    (pskc(drift="beaucoup"), "fichier PSKC illisible (TimeDrift 'beaucoup' n'est pas un nombre)"),
    (pskc(drift="1e400"), "fichier PSKC illisible (TimeDrift '1e400' hors limites)"),
    (pskc(suite="<Suite>MD5</Suite>"), "clé JT-FORM : suite d'algorithmes PSKC non prise en charge 'MD5'"),
    (pskc()[:300], "fichier PSKC illisible (XML mal formé : ParseError)"),
    ("<html><body>pas du PSKC</body></html>", "fichier PSKC illisible (pas de KeyContainer PSKC)"),
])
def test_what_cannot_be_understood_is_one_french_line(tmp_path, text, french):
    path = tmp_path / "t.pskc"
    path.write_text(text)
    with pytest.raises(ImportFileError) as caught:
        read_token_file(path)
    assert caught.value.french.startswith(f"{path}") and french in caught.value.french
    assert "\n" not in caught.value.french
