"""2,000 mutated files for each importer (PSKC, OATH CSV, roster CSV): each is either imported whole or refused
with one clear French error and exit status 1; never a traceback, never half an import."""

from __future__ import annotations

import os
import random

import pytest
import sqlalchemy as sa

from booklet_web import cli as web_cli
from provisioner.exporting import ExportItem, to_oath_csv, to_pskc
from provisioner.records import Record
from tests.interop.test_samples import SAMPLES
from tests.support import ROOT
from verifier import cli as admin_cli
from verifier import init_store

MUTATIONS = int(os.environ.get("JETON_FUZZ_FILES", 2000))  # fewer while working on an importer, never in CI
PSK = bytes(range(16))
_TOKENS = [ExportItem(Record(f"JT-F{i}", "ready", algo, digits, period, drift=i), bytes([i + 3]) * size)
           for i, (algo, digits, period, size) in enumerate([("sha1", 6, 30, 20), ("sha256", 8, 60, 32)])]
_PIECES = [b"<", b">", b"/", b"\"", b"&", b"&amp;", b"<!DOCTYPE x>", b"]]>", b"\x00", b"\xff\xfe", b"\xc3",
           b"-8.0", b"1e999", b"nan", b"-", b"99999999999999999999", b",", b";", b"\n", b"\r\n", b"totp", b"hotp",
           b"sha512", b"md5", b"=", b"==", b"#", b"\"\"", b"eleve", b"enseignant", b"3A", b" ", b"\t", b"\xe9"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """``data`` with 1 to 4 random edits: bytes flipped, cut, doubled, swapped, case changed, odd pieces put in."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out += rng.choice(_PIECES)
            continue
        at = rng.randrange(len(out))
        kind = rng.randrange(8)
        if kind == 0:
            out[at] = rng.randrange(256)
        elif kind == 1:
            del out[at:at + rng.randint(1, 40)]
        elif kind == 2:
            out[at:at] = rng.choice(_PIECES)
        elif kind == 3:
            end = min(len(out), at + rng.randint(1, 200))
            out[at:at] = out[at:end]
        elif kind == 4:
            del out[at:]
        elif kind == 5:
            end = min(len(out), at + rng.randint(1, 60))
            out[at:end] = bytes(out[at:end]).swapcase()
        elif kind == 6:
            other = rng.randrange(len(out))
            out[at], out[other] = out[other], out[at]
        else:
            digits = [i for i, b in enumerate(out) if 48 <= b <= 57]
            if digits:
                i = rng.choice(digits)
                out[i:i + 1] = rng.choice([b"", b"0", b"9" * rng.randint(2, 30), b"-1", b".5", b"x"])
    return bytes(out)


def _one_error_line(status: int, out: str, err: str, prefix: str) -> None:
    assert "Traceback" not in err
    assert (status, out) == (1, ""), err
    assert err.count("\n") == 1 and err.startswith(prefix) and len(err) > len(prefix) + 10, err


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 (fixed names)


@pytest.fixture
def admin_store(tmp_path, capsys):
    db, keys = f"sqlite:///{tmp_path / 'jeton.db'}", str(tmp_path / "keys.json")
    init_store(db, keys)[0].close()
    engine = sa.create_engine(db)
    yield db, keys, engine
    engine.dispose()


SEEDS = {
    "pskc-psk": (lambda: to_pskc(_TOKENS, psk=PSK), ["--psk-hex", PSK.hex()]),
    "pskc-privacyidea": (lambda: (SAMPLES / "privacyidea-3.14-sha256-8-60.pskc").read_bytes(),
                         ["--psk-hex", "e5a30a85002f247fae931f5e380e38ff"]),
    "pskc-plain": (lambda: (SAMPLES / "python-pskc-1.4-plain.pskc").read_bytes(), []),
    "oath-csv": (lambda: to_oath_csv(_TOKENS), []),
}


@pytest.mark.slow
@pytest.mark.parametrize("seed", ["pskc", "oath-csv"])
def test_mutated_token_files_are_imported_whole_or_refused_in_one_french_line(admin_store, tmp_path, capsys, seed):
    db, keys, engine = admin_store
    sources = [s for s in SEEDS if s.startswith(seed)]
    rng = random.Random(f"jeton-fuzz-{seed}")
    path = tmp_path / "mutated"
    outcomes = {"imported": 0, "refused": 0}
    for n in range(MUTATIONS):
        original, options = SEEDS[sources[n % len(sources)]]
        path.write_bytes(mutate(original(), rng))
        before = _count(engine, "tokens")
        capsys.readouterr()
        status = admin_cli.main(["import", str(path), *options, "--db", db, "--keys", keys])
        out, err = capsys.readouterr()
        after = _count(engine, "tokens")
        if status == 0:  # a harmless edit (a blank, a case): the whole file went in, and said how many
            assert err == "" and out.startswith(f"{after - before} clé(s) importée(s)"), (out, err)
            outcomes["imported"] += 1
            with engine.begin() as conn:  # start again empty, so that the next file is not refused as a duplicate
                conn.execute(sa.text("DELETE FROM tokens"))
        else:
            _one_error_line(status, out, err, "jeton-admin : erreur : ")
            assert after == before, f"half an import: {err}"
            outcomes["refused"] += 1
    assert outcomes["refused"] > MUTATIONS // 2, outcomes


@pytest.fixture
def booklet_db(tmp_path, capsys):
    db, keys = f"sqlite:///{tmp_path / 'jeton.db'}", str(tmp_path / "keys.json")
    assert admin_cli.main(["init", "--db", db, "--keys", keys]) == 0
    assert web_cli.main(["init-db", "--db", db]) == 0
    engine = sa.create_engine(db)
    yield db, engine
    engine.dispose()


@pytest.mark.slow
def test_mutated_rosters_are_imported_whole_or_refused_without_a_traceback(booklet_db, tmp_path, capsys):
    db, engine = booklet_db
    original = (ROOT / "booklet_web" / "samples" / "roster-exemple.csv").read_bytes()
    rng = random.Random("jeton-fuzz-roster")
    path = tmp_path / "mutated.csv"
    refused = 0
    for _ in range(MUTATIONS):
        path.write_bytes(mutate(original, rng))
        before = {t: _count(engine, t) for t in ("users", "booklet_pupils", "booklet_classes", "booklet_teaching")}
        capsys.readouterr()
        status = web_cli.main(["import-roster", str(path), "--db", db])
        out, err = capsys.readouterr()
        if status == 0:
            assert err == "" and "élève(s) ajouté(s)" in out.splitlines()[-1], (out, err)
            continue
        refused += 1
        assert (status, out) == (1, "") and "Traceback" not in err, err
        lines = err.splitlines()
        # one line per bad line of the file (its number and what is wrong), then one summary line
        assert lines[-1].startswith("jeton-web: ") and all(
            line.startswith((f"{path}:", "jeton-web: ")) for line in lines), err
        assert {t: _count(engine, t) for t in before} == before, f"half an import: {err}"
    assert refused > MUTATIONS // 2
