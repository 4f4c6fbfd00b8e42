"""A small school for the booklet tests, built through the real libraries (verifier store, roster import)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pyotp
import sqlalchemy as sa

import verifier
from booklet_web import create_app, schema
from booklet_web.db import open_database
from booklet_web.roster import import_roster, verifier_user_creator
from booklet_web.tables import classes, pupils

# A time on a 30-second step boundary (+5 s), far from the real clock: every code is computed for it.
T0 = 1_800_000_000 + 5  # 2027-01-15 08:00:05 UTC (09:00 in Paris), on a step boundary + 5 s
PIN = "4821"
SECRETS = {
    "jdupont": b"jdupont-secret-0001-abcdef",
    "mmartin": b"mmartin-secret-0002-abcdef",
    "adurand": b"adurand-secret-0003-abcdef",
}
SERIALS = {"jdupont": "JT-0001", "mmartin": "JT-0002", "adurand": "JT-0003"}


class Clock:
    """The application's clock (Unix seconds), moved by the test: passed to the verifier as ``now=``."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def step(self, n: int = 1) -> None:
        self.t += 30 * n


def code_for(login: str, t: float) -> str:
    """The 6 digits the user's token shows at ``t`` (RFC 6238, computed from the seeded secret)."""
    import base64

    return pyotp.TOTP(base64.b32encode(SECRETS[login]).decode()).at(int(t))


@dataclass
class World:
    url: str
    keys: Path
    clock: Clock
    app: object
    store: verifier.Store
    users: dict[str, int] = field(default_factory=dict)

    def class_id(self, name: str) -> int:
        with self.app.extensions["jeton"].db.engine.connect() as conn:
            return conn.execute(sa.select(classes.c.id).where(classes.c.name == name)).scalar_one()

    def pupil_ids(self, class_name: str) -> list[int]:
        with self.app.extensions["jeton"].db.engine.connect() as conn:
            return list(conn.execute(sa.select(pupils.c.id).join(classes).where(classes.c.name == class_name)
                                     .order_by(pupils.c.last_name, pupils.c.first_name)).scalars())

    def log_in(self, client, login: str) -> None:
        """Put a logged-in session in the test client (the login flow itself is tested in test_auth)."""
        with client.session_transaction() as sess:
            sess["uid"] = self.users[login]
            sess["since"] = sess["seen"] = time.time()

    def activate(self, login: str) -> None:
        """Give the user's token a PIN through the verifier (first login, new PIN), as the guide's steps 2-3."""
        v = self.app.extensions["jeton"].verifier
        result = v.authenticate(login, code_for(login, self.clock.t), now=self.clock.t)
        assert result.outcome == "NEW_PIN_REQUIRED"
        v.set_pin(result.ticket, PIN, PIN, now=self.clock.t)
        self.clock.step()

    def close(self) -> None:
        self.app.extensions["jeton"].db.dispose()
        self.app.extensions["jeton"].store.close()
        self.store.close()


def sample_roster() -> bytes:
    return resources.files("booklet_web").joinpath("samples/roster-exemple.csv").read_bytes()


def prepare_database(url: str, keys: Path) -> verifier.Store:
    """Verifier schema and key ring, booklet schema, referential: what `jeton-admin init` and
    `jeton-web init-db` do."""
    store, _created, _revs = verifier.init_store(url, keys)
    database = open_database(url)
    schema.upgrade(database.engine)
    schema.load_referential_into(database.engine)
    database.dispose()
    return store


def build_world(url: str, keys: Path, *, app_config: dict | None = None) -> World:
    store = prepare_database(url, keys)
    clock = Clock(T0)
    database = open_database(url)
    import_roster(database.writer, sample_roster(), verifier_user_creator("test"))
    database.dispose()
    for login, secret in SECRETS.items():
        store.import_token(SERIALS[login], secret, now=T0 - 3600)
        store.assign(SERIALS[login], login, now=T0 - 3600)
    config = {"TESTING": True, "JETON_DB_URL": url, "JETON_KEYS_FILE": str(keys), "JETON_CLOCK": clock,
              "SESSION_COOKIE_SECURE": False, "SECRET_KEY": "test-secret-key"}
    config.update(app_config or {})
    app = create_app(config)
    w = World(url, keys, clock, app, store)
    w.users = {u.login: u.id for u in store.list_users()}
    return w


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    if not match:
        match = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sealed_preview(html: str) -> str:
    """The sealed preview an import's confirmation form carries."""
    match = re.search(r'name="apercu" value="([^"]+)"', html)
    assert match, "no preview to confirm in the page"
    return match.group(1)


def preview_roster(client, data: bytes, name: str = "classe.csv"):
    """Upload a roster on "Importer une liste d'élèves": the preview page (nothing written)."""
    import io

    page = client.get("/admin/import")
    return client.post("/admin/import", data={"csrf_token": csrf_token(page.text), "fichier": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def import_roster_in_console(client, data: bytes, name: str = "classe.csv"):
    """Upload a roster, then confirm its preview: the summary page."""
    preview = preview_roster(client, data, name)
    assert preview.status_code == 200, preview.text
    return client.post("/admin/import/confirmer", data={"csrf_token": csrf_token(preview.text),
                                                        "apercu": sealed_preview(preview.text)})
