"""Key rotation (``jeton-admin rotate-key``): a new primary key, every secret re-encrypted under it, in batches that
each commit on their own, so that 100,000 tokens rotate in seconds and an interruption loses nothing.

The order makes every row readable at every instant with the key file on disk:

1. the new key file is written first (atomically), the old keys still in it: a row under the old key or under the
   new one opens with it;
2. tokens are re-encrypted in batches of ``batch_size`` rows, each batch one transaction; each row's UPDATE is a
   compare-and-set on the ciphertext read, so a row that changed meanwhile (retired, re-seeded) is left as it is
   and read again by the next pass;
3. the RADIUS gateways' shared secrets, then the audit row;
4. the old keys are dropped from the file only when no row uses them any more.

A rotation killed at any point is finished by the next ``rotate-key``: it finds rows still under an old key, keeps
the primary already on disk (no third key) and goes on where the other stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier.db import StoreHandle as Store
from verifier.errors import ConcurrentChange, KeyRingError
from verifier.keyring import KeyRing
from verifier.schema import radius_clients, radius_sealed_name, tokens

#: rows re-encrypted per transaction
BATCH = 2000
#: passes over the table before giving up on rows that keep changing (each pass re-reads what changed meanwhile)
_PASSES = 5

_t = tokens.c
_RESEAL = (
    tokens.update()
    .where(_t.id == sa.bindparam("b_id"), _t.key_id == sa.bindparam("b_key_id"),
           _t.secret_ct == sa.bindparam("b_secret_ct"))
    .values(key_id=sa.bindparam("key_id"), secret_ct=sa.bindparam("secret_ct"))
)


def pending(conn: sa.Connection, primary: str) -> bool:
    """Whether any row (token or RADIUS gateway) is sealed under another key than ``primary``."""
    stale_token = conn.execute(sa.select(_t.id).where(_t.key_id != primary).limit(1)).first()
    stale_client = conn.execute(sa.select(radius_clients.c.id).where(radius_clients.c.key_id != primary)
                                .limit(1)).first()
    return stale_token is not None or stale_client is not None


def _reseal_tokens(store: Store, ring: KeyRing, batch_size: int, after_batch: Callable[[int], None] | None) -> int:
    """Re-encrypt every token not under ``ring.primary``, ``batch_size`` rows per transaction; the rows done."""
    done = 0
    for _pass in range(_PASSES):
        last_id, changed = 0, False
        while True:
            with store.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(_t.id, _t.serial, _t.key_id, _t.secret_ct)
                    .where(_t.key_id != ring.primary, _t.id > last_id).order_by(_t.id).limit(batch_size)
                ).all()
            if not rows:
                break
            changed = True
            values = []
            for row in rows:
                blob = ring.seal(row.serial, ring.open(row.serial, row.key_id, row.secret_ct))[1] \
                    if row.secret_ct else b""  # a destroyed secret (retired, failed) stays empty
                values.append({"b_id": row.id, "b_key_id": row.key_id, "b_secret_ct": row.secret_ct,
                               "key_id": ring.primary, "secret_ct": blob})
            with store.transaction() as conn:
                conn.execute(_RESEAL, values)
            done += len(rows)
            last_id = rows[-1].id
            if after_batch is not None:
                after_batch(done)
        if not changed:
            return done
    with store.engine.connect() as conn:
        if conn.execute(sa.select(_t.id).where(_t.key_id != ring.primary).limit(1)).first() is not None:
            raise ConcurrentChange("tokens kept changing during the key rotation: run it again, it resumes",
                                   french="des clés ont changé pendant toute la rotation : relancez la commande, "
                                          "elle reprend où elle s'est arrêtée")
    return done


def _reseal_radius_clients(store: Store, ring: KeyRing) -> int:
    """Re-encrypt every RADIUS gateway's shared secret not under ``ring.primary`` (a few rows: one transaction)."""
    c = radius_clients.c
    with store.transaction() as conn:
        rows = conn.execute(sa.select(c.id, c.name, c.key_id, c.secret_ct).where(c.key_id != ring.primary)).all()
        for row in rows:
            bound = radius_sealed_name(row.name)
            key_id, blob = ring.seal(bound, ring.open(bound, row.key_id, row.secret_ct))
            conn.execute(radius_clients.update().where(c.id == row.id, c.key_id == row.key_id)
                         .values(key_id=key_id, secret_ct=blob))
    return len(rows)


def rotate_key(store: Store, *, actor: str = "system", keep_old: bool = False, now: float | None = None,
               batch_size: int = BATCH, after_batch: Callable[[int], None] | None = None) -> str:
    """Rotate the store's key ring (see the module's docstring), or finish an interrupted rotation. Returns the
    primary key id. ``after_batch(rows done so far)`` is called after each committed batch (progress; the tests
    kill the process there)."""
    if store.ring.path is None:
        raise KeyRingError("this key ring has no file to write the new key to",
                          french="ce trousseau de clés n'a pas de fichier où écrire la nouvelle clé")
    now = time.time() if now is None else float(now)
    ring = store.ring  # as read at start: after an interrupted rotation, its new primary with the old keys
    with store.engine.connect() as conn:
        resumed = pending(conn, ring.primary) and len(ring.keys) > 1
    if not resumed:
        ring = ring.with_new_primary().with_web_key(now=now, grace=store.settings.session_lifetime)
        ring.save(store.ring.path)  # first: from now on, every row opens with the file on disk
    store.ring = ring
    with store.transaction() as conn:
        audit_log.write(conn, action="keys.rotate", outcome="resumed" if resumed else "started", actor=actor,
                        detail=f"primary {ring.primary}", now=now)
    count = _reseal_tokens(store, ring, batch_size, after_batch)
    gateways = _reseal_radius_clients(store, ring)
    with store.transaction() as conn:
        audit_log.write(conn, action="keys.rotate", outcome="ok", actor=actor,
                        detail=f"new primary {ring.primary}; {count} tokens, {gateways} RADIUS clients "
                               f"re-encrypted; new web key {ring.web_primary}", now=now)
    if not keep_old:  # drop only the keys no row uses any more (another process may have written meanwhile)
        with store.engine.connect() as conn:
            used = set(conn.execute(sa.select(_t.key_id).distinct()).scalars())
            used |= set(conn.execute(sa.select(radius_clients.c.key_id).distinct()).scalars())
        store.ring = ring.without(set(ring.keys) - used - {ring.primary})
        store.ring.save(ring.path)
    return ring.primary
