"""Nothing `jeton-provision` prints, verbose or not, on success or failure, holds a token's secret."""

from __future__ import annotations

import base64

import pytest

from tests.provisioner.devices import KINDS
from verifier import open_store


def forms(secret: bytes) -> list[str]:
    b32 = base64.b32encode(secret).decode()
    return [secret.hex(), secret.hex().upper(), b32, b32.rstrip("="), b32.lower().rstrip("="),
            base64.b64encode(secret).decode()]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_command_output_is_free_of_secrets(cli, store_files, tmp_path, kind):
    token = KINDS[kind](tmp_path / "flash")
    port = token.plug()
    printed = []
    try:
        def run(*args, **kwargs):
            result = cli(*args, **kwargs)
            printed.append(result.out + result.err)
            return result

        assert run("-v", "seed", port, "--json", *store_files.args()).code == 0
        with open_store(store_files.db, store_files.keys) as store:
            (serial,) = [t.serial for t in store.list_tokens()]
            secret = store.token_secret(serial)
        run("-v", "seed", port, *store_files.args())  # already provisioned
        run("-v", "seed", port, "--serial", "OTHER", *store_files.args())
        run("-v", "check", port, "--json", *store_files.args())
        run("-v", "ports", "--no-usb", "--port", port, "--json")
        run("-v", "export", "--format", "pskc", "--password", "12345678", "-o", str(tmp_path / "x.pskc"),
            *store_files.args())
        run("-v", "export", "--format", "csv", "-o", str(tmp_path / "x.csv"), *store_files.args())
        run("-v", "flash", port)  # refused: locked
        run("-v", "wipe", port, "--force", *store_files.args())
        run("-v", "check", port, *store_files.args())
    finally:
        token.unplug()
    everything = "\n".join(printed)
    assert "JT-000001" in everything  # the scan looks at real output
    for form in forms(secret):
        assert form not in everything
