"""The same two-phase seeding on PostgreSQL (production's store), several tokens at once."""

from __future__ import annotations

import pytest

from tests.provisioner.conftest import StoreFiles
from tests.provisioner.devices import PtyToken
from tests.support import throwaway_postgres_database


@pytest.mark.postgres
def test_batch_of_tokens_seeded_into_postgresql_get_unique_serials(cli, postgres_base_url, tmp_path):
    from verifier import init_store, open_store

    with throwaway_postgres_database(postgres_base_url) as url:
        files = StoreFiles(url.render_as_string(hide_password=False), str(tmp_path / "keys.json"))
        init_store(files.db, files.keys)[0].close()
        tokens = [PtyToken(tmp_path / str(i)) for i in range(3)]
        hub = tmp_path / "hub"
        hub.mkdir()
        try:
            for i, token in enumerate(tokens):
                (hub / f"tok{i}").symlink_to(token.plug())
            run = cli("batch", "--no-usb", "--port", str(hub / "tok*"), "--count", "3", "--workers", "3",
                      *files.args())
        finally:
            for token in tokens:
                token.unplug()
        assert run.code == 0, run.err
        with open_store(files.db, files.keys) as store:
            listed = [(t.serial, t.state, t.operator) for t in store.list_tokens()]
        assert [(s, st) for s, st, _ in listed] == [("JT-000001", "ready"), ("JT-000002", "ready"),
                                                      ("JT-000003", "ready")]
        assert {t.model.serial for t in tokens} == {"JT-000001", "JT-000002", "JT-000003"}
