"""The token store's tables (SQLAlchemy Core). Migrations in ``verifier/migrations`` create them.

Other applications sharing the database (booklet_web) may reference ``users.id`` by foreign key: the table is
``users``, its primary key the integer ``id``, its ``login`` unique. Times are Unix seconds (UTC) as floats;
steps are TOTP time steps (``floor(unix / period)``).
"""

from __future__ import annotations

import sqlalchemy as sa

#: token states (DESIGN.md §4): pending -> ready -> assigned (new PIN required) -> active; locked, disabled,
#: retired from any; failed when provisioning could not complete
TOKEN_STATES = ("pending", "ready", "assigned", "active", "locked", "disabled", "retired", "failed")
ROLES = ("teacher", "admin")
ALGORITHMS = ("sha1", "sha256", "sha512")
KINDS = ("hardware", "software")

#: the Alembic version table of the verifier (the booklet keeps its own)
VERSION_TABLE = "verifier_alembic_version"

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("login", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False, server_default="teacher"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.CheckConstraint("role IN ('teacher', 'admin')", name="ck_users_role"),
    sa.Index("ix_users_role", "role"),  # the console's role filter, the count of administrators
    # PostgreSQL also has ix_users_login_trgm (lower(login)) and ix_users_name_trgm (lower(display_name)) and, on
    # tokens, ix_tokens_serial_trgm (serial): trigram GIN indexes for the console's search, made by migrations 0006
    # and 0007 when the pg_trgm extension is available (the search works without them, by a scan)
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("serial", sa.String(16), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False, server_default="hardware"),
    sa.Column("algo", sa.String(8), nullable=False),
    sa.Column("digits", sa.Integer, nullable=False),
    sa.Column("period", sa.Integer, nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("secret_ct", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=True, index=True),
    sa.Column("model", sa.String(64)),
    sa.Column("firmware", sa.String(64)),
    sa.Column("operator", sa.String(64)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("provisioned_at", sa.Float),
    sa.Column("clock_offset", sa.Float),
    sa.Column("state_reason", sa.String(200)),
    sa.Column("assigned_at", sa.Float),
    sa.Column("pin_hash", sa.String(200)),
    sa.Column("drift", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_step", sa.BigInteger),
    sa.Column("fail_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_at", sa.Float),
    #: locks in a row without a successful login between them: each lasts longer (Settings.lock_growth)
    sa.Column("lock_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.Float),
    sa.CheckConstraint(
        "state IN ('pending', 'ready', 'assigned', 'active', 'locked', 'disabled', 'retired', 'failed')",
        name="ck_tokens_state",
    ),
    # the console's lists (verifier.fleet): one state in serial order ("at least N failures" uses ix_tokens_fail_count)
    sa.Index("ix_tokens_state_serial", "state", "serial"),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("login", sa.String(64), index=True),
    sa.Column("serial", sa.String(16), index=True),
    sa.Column("source", sa.String(100)),
    sa.Column("detail", sa.String(500)),
)

#: web sessions (DESIGN.md §5): the cookie carries a random id; the row is found by its digest, and its data is
#: sealed under a key derived from that id, so the table alone neither opens a session nor reads one
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False, index=True),
    sa.Column("address", sa.String(100)),
    sa.Column("agent", sa.String(200)),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

#: throttling counters (DESIGN.md §4, §9), one row per key: ``s:<source>`` or ``l:<login>``
throttle = sa.Table(
    "throttle",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False, index=True),
)

#: RADIUS clients (DESIGN.md §4.1): gateways allowed to send Access-Requests, each with its own shared secret,
#: sealed under the key ring like a token secret (see ``verifier.radius.clients``)
def radius_sealed_name(name: str) -> str:
    """What a RADIUS client's secret is bound to when sealed (associated data): never a token serial (no ':')."""
    return f"radius:{name}"


radius_clients = sa.Table(
    "radius_clients",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("network", sa.String(64), nullable=False, unique=True),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("secret_ct", sa.LargeBinary, nullable=False),
    sa.Column("legacy", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Float, nullable=False),
)

#: emergency access for a lost or forgotten token (DESIGN.md §4): a temporary code, stored peppered like a PIN,
#: typed after the PIN of ``token_id`` (the user's token when it was issued) until ``expires_at``, ``uses_left``
#: times; ``ended_at`` once used up, ended by an administrator, or when the token is found or replaced
emergency = sa.Table(
    "emergency",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
    sa.Column("code_hash", sa.String(200), nullable=False),
    sa.Column("issued_at", sa.Float, nullable=False),
    sa.Column("issued_by", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("uses_left", sa.Integer, nullable=False),
    sa.Column("fail_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ended_at", sa.Float),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
)

#: token health (verifier.health): the drift learned at accepted logins, one point when it changes and at most one a
#: day otherwise (``source``: ``login`` or ``next_code``); kept across reassignments (it is the token's clock)
drift_points = sa.Table(
    "drift_points",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("drift", sa.Integer, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Index("ix_drift_points_token_at", "token_id", "at"),
)

#: one row per token with health facts: the running sums of its drift points (``t`` in days since
#: ``verifier.health.T_REF``, ``x`` the drift in seconds), so that the fleet's least-squares rates are one scan of
#: this table; and the last battery reading ``jeton-provision check`` recorded (volts, time)
token_health = sa.Table(
    "token_health",
    metadata,
    sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("points", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_at", sa.Float),
    sa.Column("last_at", sa.Float),
    sa.Column("sum_t", sa.Float, nullable=False, server_default="0"),
    sa.Column("sum_x", sa.Float, nullable=False, server_default="0"),
    sa.Column("sum_tt", sa.Float, nullable=False, server_default="0"),
    sa.Column("sum_tx", sa.Float, nullable=False, server_default="0"),
    #: the least-squares slope of those sums (seconds a day), kept with them so that the fleet filters on it
    sa.Column("rate", sa.Float),
    sa.Column("battery_volts", sa.Float),
    sa.Column("battery_at", sa.Float),
)

#: the fleet's "unused for N days" (verifier.fleet._idle_since) has two expression indexes, made by migration 0007
#: (ix_tokens_idle_since, ix_tokens_state_idle_since): their expression differs by dialect, so they are not here
#: the fleet's "repeated failures" (verifier.fleet): tokens by failure count, and the audit's refusals by time
sa.Index("ix_tokens_fail_count", tokens.c.fail_count)
sa.Index("ix_audit_refusals", audit.c.at, audit.c.serial, sqlite_where=sa.text("outcome IN ('REJECT', 'LOCKED')"),
         postgresql_where=sa.text("outcome IN ('REJECT', 'LOCKED')"))
