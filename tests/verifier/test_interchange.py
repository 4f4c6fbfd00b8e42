"""Importing tokens: PSKC written by the `pskc` package (password or pre-shared key) and OATH CSV."""

from __future__ import annotations

import secrets

import pskc
import pytest

from verifier import DuplicateSerial, ImportFileError
from verifier.interchange import TOTP_URI, read_token_file
from verifier.otp import TokenCodes


def write_pskc(path, keys, *, password=None, psk=None):
    container = pskc.PSKC()
    for serial, secret, suite, drift in keys:
        container.add_key(serial=serial, secret=secret, algorithm=TOTP_URI, algorithm_suite=suite,
                          response_length=6, time_interval=30, time_drift=drift, manufacturer="Jeton")
    if password is not None:
        container.encryption.setup_pbkdf2(password)
    elif psk is not None:
        container.encryption.setup_preshared_key(key=psk)
    container.write(str(path))


def test_pskc_with_a_password(tmp_path, store, planted):
    a, b = planted.secret(secrets.token_bytes(20)), planted.secret(secrets.token_bytes(32))
    path = tmp_path / "lot.pskcxml"
    write_pskc(path, [("JT-P1", a, "HMAC-SHA1", 0), ("JT-P2", b, "HMAC-SHA256", 2)],
               password=planted.value("s3cret-pw"))
    assert a.hex() not in path.read_text()
    records = read_token_file(path, password="s3cret-pw")
    assert [(r.serial, r.algo, r.drift) for r in records] == [("JT-P1", "sha1", 0), ("JT-P2", "sha256", 2)]
    assert store.import_records(records, source=str(path)) == ["JT-P1", "JT-P2"]
    assert store.token_secret("JT-P2") == b
    token = store.get_token("JT-P2")
    assert (token.state, token.algo, token.drift) == ("ready", "sha256", 2)


def test_pskc_with_a_pre_shared_key(tmp_path, store, planted):
    key = secrets.token_bytes(16)
    secret = planted.secret(secrets.token_bytes(20))
    path = tmp_path / "lot.pskcxml"
    write_pskc(path, [("JT-Q1", secret, None, 0)], psk=key)
    store.import_records(read_token_file(path, psk=key), source="psk")
    assert store.token_secret("JT-Q1") == secret


def test_pskc_wrong_password_or_missing_password_is_a_clear_error(tmp_path):
    path = tmp_path / "lot.pskcxml"
    write_pskc(path, [("JT-P1", secrets.token_bytes(20), "HMAC-SHA1", 0)], password="right")
    with pytest.raises(ImportFileError, match="cannot decrypt"):
        read_token_file(path, password="wrong")
    with pytest.raises(ImportFileError, match="--password or --psk-hex"):
        read_token_file(path)


def test_oath_csv(tmp_path, store, planted):
    a, b = planted.secret(secrets.token_bytes(20)), planted.secret(secrets.token_bytes(32))
    path = tmp_path / "lot.csv"
    path.write_text(f"serial,key,type,digits,period,algo\n# lot 7\nJT-C1,{a.hex()},totp,6,30\n"
                    f"JT-C2,{b.hex().upper()},totp,8,60,sha256\n")
    store.import_records(read_token_file(path), source="csv")
    assert store.token_secret("JT-C1") == a
    t = store.get_token("JT-C2")
    assert (t.digits, t.period, t.algo) == (8, 60, "sha256")
    assert TokenCodes(store.token_secret("JT-C2"), algo="sha256", digits=8, period=60).code(1)


def test_a_bad_file_imports_nothing(tmp_path, store):
    path = tmp_path / "lot.csv"
    path.write_text(f"JT-C1,{secrets.token_hex(20)},totp\nJT-C2,nothex,totp\n")
    with pytest.raises(ImportFileError, match="line 2"):
        read_token_file(path)
    path.write_text(f"JT-C1,{secrets.token_hex(20)},totp\nJT-C3,{secrets.token_hex(20)},hotp\n")
    with pytest.raises(ImportFileError, match="only totp"):
        read_token_file(path)
    # a duplicate serial in the database rolls the whole import back
    store.import_records(read_token_file(_csv(tmp_path, "JT-C2")), source="first")
    path.write_text(f"JT-C1,{secrets.token_hex(20)},totp\nJT-C2,{secrets.token_hex(20)},totp\n")
    with pytest.raises(DuplicateSerial):
        store.import_records(read_token_file(path), source="second")
    assert store.find_token("JT-C1") is None
    (tmp_path / "junk.xml").write_text("<not-pskc/>")
    with pytest.raises(ImportFileError):
        read_token_file(tmp_path / "junk.xml")


def _csv(tmp_path, serial):
    path = tmp_path / f"{serial}.csv"
    path.write_text(f"{serial},{secrets.token_hex(20)},totp\n")
    return path


def test_each_pskc_key_is_checked_and_the_error_names_it_in_both_languages(tmp_path):
    path = tmp_path / "lot.pskcxml"
    container = pskc.PSKC()
    container.add_key(serial="JT-P1", secret=secrets.token_bytes(20), algorithm=TOTP_URI, response_length=6,
                      time_interval=45)
    container.write(str(path))
    with pytest.raises(ImportFileError) as refused:
        read_token_file(path)
    assert str(refused.value) == f"{path}, key JT-P1: a token's period is 30 or 60 seconds, not 45"
    assert refused.value.french == f"{path}, clé JT-P1 : la période d'une clé est de 30 ou 60 secondes, pas 45"
    write_pskc(path, [("JT-P1", secrets.token_bytes(20), "HMAC-MD5", 0)])
    with pytest.raises(ImportFileError) as refused:
        read_token_file(path)
    assert refused.value.french == (f"{path}, clé JT-P1 : suite d'algorithmes PSKC non prise en charge 'HMAC-MD5' "
                                    "(HMAC-SHA1, HMAC-SHA256 ou HMAC-SHA512)")
