"""A round trip through privacyIDEA 3.14 (its own library, in .venv-privacyidea), both ways, for sha1, sha256 and
8-digit/60 s tokens: the codes privacyIDEA accepts and computes are the ones Jeton computes."""

from __future__ import annotations

import time

import pytest

from provisioner.exporting import ExportItem, to_pskc
from provisioner.records import Record
from verifier import cli as admin_cli
from verifier import init_store, open_store
from verifier.otp import TokenCodes

PARAMETERS = [("sha1", 6, 30), ("sha256", 6, 30), ("sha256", 8, 60), ("sha1", 8, 60)]
PSK = bytes(range(16))


def _secret(algo: str, salt: int) -> bytes:
    return bytes((i * 7 + salt) % 256 for i in range(20 if algo == "sha1" else 32))


@pytest.mark.slow
def test_tokens_exported_by_jeton_are_loaded_by_privacyidea_with_their_parameters(tmp_path, privacyidea,
                                                                                 interop_table):
    items = [ExportItem(Record(f"JT-PI-{i}", "ready", algo, digits, period), _secret(algo, i))
             for i, (algo, digits, period) in enumerate(PARAMETERS)]
    path = tmp_path / "jeton.pskc"
    path.write_bytes(to_pskc(items, psk=PSK))
    now = time.time()
    codes = {i.record.serial: TokenCodes(i.secret, algo=i.record.algo, digits=i.record.digits, period=i.record.period)
             .code(int(now // i.record.period)) for i in items}
    answer = privacyidea({"op": "import", "file": str(path), "psk": PSK.hex(), "codes": codes})
    assert answer["refused"] == []
    for item in items:
        got = answer[item.record.serial]
        r = item.record
        assert (got["hashlib"], got["otplen"], got["timeStep"]) == (r.algo, r.digits, r.period)
        assert got["accepted"], f"privacyIDEA refused the current code of {r.serial}"
        interop_table("privacyIDEA 3.14", "Jeton → outil", f"PSKC clé partagée, {r.algo}, {r.digits} chiffres, "
                      f"{r.period} s", "chargé avec ses paramètres, code accepté")


@pytest.mark.slow
def test_tokens_exported_by_privacyidea_import_into_jeton_and_give_the_same_codes(tmp_path, privacyidea, capsys,
                                                                                interop_table):
    specs = [{"serial": f"PI-RT-{i}", "otpkey": _secret(algo, 50 + i).hex(), "hashlib": algo, "otplen": digits,
              "timeStep": period, "timeShift": 0} for i, (algo, digits, period) in enumerate(PARAMETERS)]
    path = tmp_path / "privacyidea.pskc"
    answer = privacyidea({"op": "export", "file": str(path), "tokens": specs})
    assert answer["count"] == len(specs)
    db, keys = f"sqlite:///{tmp_path / 'jeton.db'}", str(tmp_path / "keys.json")
    init_store(db, keys)[0].close()
    status = admin_cli.main(["import", str(path), "--psk-hex", answer["psk"], "--db", db, "--keys", keys])
    out, err = capsys.readouterr()
    assert (status, err) == (0, ""), err
    with open_store(db, keys) as store:
        for spec in specs:
            token = store.get_token(spec["serial"])
            assert (token.algo, token.digits, token.period) == (spec["hashlib"], spec["otplen"], spec["timeStep"])
            totp = TokenCodes(store.token_secret(spec["serial"]), algo=token.algo, digits=token.digits,
                        period=token.period)
            assert totp.code(int(answer["at"] // token.period)) == answer["codes"][spec["serial"]]
            interop_table("privacyIDEA 3.14", "outil → Jeton", f"PSKC clé partagée, {token.algo}, {token.digits} "
                          f"chiffres, {token.period} s", "importé, même code")
