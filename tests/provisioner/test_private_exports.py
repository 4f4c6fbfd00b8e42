"""`jeton-provision export` and `software --png` write their secrets as new 0600 files, never through a link an
attacker planted at the destination (issue 12, item 4), as IT staff run them."""

from __future__ import annotations

import os
import stat

import pytest

from tests.provisioner.test_export_software import ready_tokens
from verifier import open_store

FORMATS = {"pskc": ["--format", "pskc", "--password", "un mot de passe"], "csv": ["--format", "csv"]}


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_force_over_a_planted_link_leaves_its_target_untouched(cli, store_files, tmp_path, fmt):
    made = ready_tokens(store_files, 1)
    victim = tmp_path / "config-of-another-program"
    victim.write_text("precious\n")
    victim.chmod(0o644)
    out = tmp_path / "tokens.out"
    out.symlink_to(victim)
    run = cli("export", *FORMATS[fmt], "-o", str(out), "--force", *store_files.args())
    assert run.code == 0, run.err
    assert victim.read_text() == "precious\n" and mode(victim) == 0o644  # the link's target: untouched
    assert not out.is_symlink() and mode(out) == 0o600
    if fmt == "csv":
        (secret, _algo), = made.values()
        assert secret.hex() in out.read_text()


def test_export_without_force_refuses_even_a_dangling_link(cli, store_files, tmp_path):
    ready_tokens(store_files, 1)
    out = tmp_path / "tokens.csv"
    out.symlink_to(tmp_path / "would-be-created")
    run = cli("export", "--format", "csv", "-o", str(out), *store_files.args())
    assert (run.code, run.err.strip()) == (1, f"erreur : {out} existe déjà (--force pour le remplacer)")
    assert out.is_symlink() and not (tmp_path / "would-be-created").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_force_over_a_0644_file_makes_it_0600(cli, store_files, tmp_path, fmt):
    ready_tokens(store_files, 2)
    out = tmp_path / "tokens.out"
    out.write_text("an older export, left readable by everyone")
    out.chmod(0o644)
    run = cli("export", *FORMATS[fmt], "-o", str(out), "--force", *store_files.args())
    assert run.code == 0, run.err
    assert mode(out) == 0o600 and "older export" not in out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_software_png_over_a_planted_link_is_a_new_0600_file(cli, store_files, tmp_path):
    with open_store(store_files.db, store_files.keys) as store:
        store.add_user("mdupont")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    png = tmp_path / "qr.png"
    png.symlink_to(victim)
    run = cli("software", "mdupont", "--png", str(png), "--no-terminal", *store_files.args())
    assert run.code == 0, run.err
    assert victim.read_text() == "precious\n"
    assert not png.is_symlink() and mode(png) == 0o600 and png.read_bytes().startswith(b"\x89PNG")


def test_export_force_onto_a_pipe_or_device_is_one_line_and_replaces_nothing(cli, store_files, tmp_path):
    ready_tokens(store_files, 1)
    fifo = tmp_path / "tokens.csv"
    os.mkfifo(fifo)  # writing into it would block; replacing /dev/null the same way would break the system
    run = cli("export", "--format", "csv", "-o", str(fifo), "--force", *store_files.args())
    assert run.code == 1
    assert run.err.strip() == f"erreur : impossible d'écrire {fifo} : ce n'est pas un fichier ordinaire"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and [p.name for p in tmp_path.iterdir()].count("tokens.csv") == 1
