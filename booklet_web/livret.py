"""The booklet's rules: who sees which class, recording and withdrawing items, validating compétences.

Every function takes the SQLAlchemy connection or engine and the acting user; none trusts an id from a
request without checking that the actor may reach it. Records are per pupil and item, written with
INSERT ... ON CONFLICT DO NOTHING, so two teachers saving the same pupil at once both keep their work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from booklet_web.referential import Referential
from booklet_web.tables import audit, classes, item_records, pupils, teaching, users, validations

ROLE_ADMIN = "admin"
ROLE_TEACHER = "teacher"
# Languages offered for compétence 2 (level A2); the list is the common offer of French collèges.
LANGUAGES = ("anglais", "allemand", "espagnol", "italien", "portugais", "arabe", "chinois", "russe", "occitan")


class BookletError(Exception):
    """Base of the booklet's errors; ``message`` is French, shown to the user as is."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(BookletError):
    status = 404


class Forbidden(BookletError):
    status = 403


class Invalid(BookletError):
    status = 400


@dataclass(frozen=True)
class Actor:
    """The logged-in user as the booklet sees them."""

    id: int
    login: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


def actor_by_id(conn: sa.Connection, user_id: int) -> Actor | None:
    """The user of the verifier's ``users`` table with this id, or None."""
    return _actor(conn.execute(sa.select(users).where(users.c.id == user_id)).first())


def actor_by_login(conn: sa.Connection, login: str) -> Actor | None:
    """The user with this login, or None."""
    return _actor(conn.execute(sa.select(users).where(users.c.login == login)).first())


def _actor(row) -> Actor | None:
    return None if row is None else Actor(row.id, row.login, row.display_name or row.login, row.role)


def visible_classes(conn: sa.Connection, actor: Actor) -> list[sa.Row]:
    """The classes the actor may open: every class for an administrator, the ones they teach otherwise."""
    query = sa.select(classes).order_by(classes.c.name)
    if not actor.is_admin:
        query = query.join(teaching, teaching.c.class_id == classes.c.id).where(teaching.c.user_id == actor.id)
    return list(conn.execute(query))


def get_class(conn: sa.Connection, actor: Actor, class_id: int) -> sa.Row:
    """The class ``class_id`` if the actor may open it; NotFound or Forbidden otherwise."""
    row = conn.execute(sa.select(classes).where(classes.c.id == class_id)).first()
    if row is None:
        raise NotFound("Cette classe n'existe pas.")
    if not actor.is_admin:
        taught = conn.execute(
            sa.select(teaching).where(teaching.c.class_id == class_id, teaching.c.user_id == actor.id)
        ).first()
        if taught is None:
            raise Forbidden("Vous n'enseignez pas dans cette classe.")
    return row


def class_pupils(conn: sa.Connection, class_id: int) -> list[sa.Row]:
    """The pupils of a class, by name."""
    query = (
        sa.select(pupils)
        .where(pupils.c.class_id == class_id)
        .order_by(pupils.c.last_name, pupils.c.first_name, pupils.c.id)
    )
    return list(conn.execute(query))


def selected_pupils(conn: sa.Connection, actor: Actor, class_id: int, pupil_ids: Sequence[int]) -> list[sa.Row]:
    """The pupils chosen in a class the actor may open; every id must be a pupil of that class."""
    get_class(conn, actor, class_id)
    wanted = list(dict.fromkeys(pupil_ids))
    if not wanted:
        raise Invalid("Sélectionnez au moins un élève.")
    if len(wanted) > 200:
        raise Invalid("Trop d'élèves sélectionnés.")
    rows = list(
        conn.execute(
            sa.select(pupils)
            .where(pupils.c.id.in_(wanted), pupils.c.class_id == class_id)
            .order_by(pupils.c.last_name, pupils.c.first_name, pupils.c.id)
        )
    )
    if len(rows) != len(wanted):
        raise NotFound("Un des élèves sélectionnés n'appartient pas à cette classe.")
    return rows


@dataclass(frozen=True)
class Record:
    """An item recorded for a pupil: by whom and when."""

    pupil_id: int
    item_id: str
    by_id: int
    by_name: str
    at: datetime


def records_for(
    conn: sa.Connection, pupil_ids: Iterable[int], item_ids: Iterable[str]
) -> dict[tuple[int, str], Record]:
    """The records of these pupils for these items, keyed by (pupil id, item id)."""
    query = (
        sa.select(item_records, users.c.display_name, users.c.login)
        .join(users, users.c.id == item_records.c.recorded_by)
        .where(item_records.c.pupil_id.in_(list(pupil_ids)), item_records.c.item_id.in_(list(item_ids)))
    )
    return {
        (r.pupil_id, r.item_id): Record(r.pupil_id, r.item_id, r.recorded_by, r.display_name or r.login, r.recorded_at)
        for r in conn.execute(query)
    }


def record_counts(conn: sa.Connection, pupil_ids: Iterable[int], item_ids: Iterable[str]) -> dict[str, int]:
    """How many of these pupils have each item recorded (the several-pupil view needs only that)."""
    query = (
        sa.select(item_records.c.item_id, sa.func.count())
        .where(item_records.c.pupil_id.in_(list(pupil_ids)), item_records.c.item_id.in_(list(item_ids)))
        .group_by(item_records.c.item_id)
    )
    return dict(conn.execute(query).all())


@dataclass(frozen=True)
class Validation:
    """A compétence validated for a pupil (still in force)."""

    pupil_id: int
    competence_id: str
    language: str | None
    by_name: str
    at: datetime


def validations_for(conn: sa.Connection, pupil_ids: Iterable[int]) -> dict[tuple[int, str], Validation]:
    """The validations in force for these pupils, keyed by (pupil id, compétence id)."""
    query = (
        sa.select(validations, users.c.display_name, users.c.login)
        .join(users, users.c.id == validations.c.validated_by)
        .where(validations.c.pupil_id.in_(list(pupil_ids)), validations.c.cancelled_at.is_(None))
    )
    return {
        (r.pupil_id, r.competence_id): Validation(
            r.pupil_id, r.competence_id, r.language, r.display_name or r.login, r.validated_at
        )
        for r in conn.execute(query)
    }


@dataclass
class SaveResult:
    """What a save did: records added, records withdrawn, withdrawals refused by the rules."""

    added: int = 0
    withdrawn: int = 0
    refused: list[str] = field(default_factory=list)


def _insert_ignore(conn: sa.Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database dialect {conn.dialect.name}")


def write_audit(conn: sa.Connection, actor: Actor | None, action: str, now: datetime, *, pupil_id: int | None = None,
                target: str | None = None, detail: str | None = None) -> None:
    """One row of the booklet's audit (who, when, what), in the caller's transaction (``actor`` None: a command)."""
    conn.execute(audit.insert().values(at=now, actor_id=actor.id if actor else None, action=action,
                                       pupil_id=pupil_id, target=target, detail=detail))


def check_items(ref: Referential, competence_id: str, item_ids: Iterable[str]) -> list[str]:
    """The item ids, checked to be items of this compétence (Invalid otherwise)."""
    comp = ref.competence(competence_id)
    if comp is None:
        raise NotFound("Cette compétence n'existe pas.")
    allowed = {i.id for i in comp.items}
    out = list(dict.fromkeys(item_ids))
    for item_id in out:
        if item_id not in allowed:
            raise Invalid(f"L'item « {item_id[:12]} » n'appartient pas à la compétence {comp.number}.")
    return out


def save_items(engine: sa.Engine, ref: Referential, actor: Actor, class_id: int, pupil_ids: Sequence[int],
               competence_id: str, add: Iterable[str], withdraw: Iterable[str], now: datetime) -> SaveResult:
    """Record ``add`` for every selected pupil; withdraw ``withdraw`` when exactly one pupil is selected.

    Withdrawal follows the rules: only the record's author or an administrator may withdraw it, and only
    with a single pupil selected (with several pupils only additions apply). Everything is checked before
    anything is written, in one transaction.
    """
    add = check_items(ref, competence_id, add)
    withdraw = [i for i in check_items(ref, competence_id, withdraw) if i not in add]
    result = SaveResult()
    with engine.begin() as conn:
        chosen = selected_pupils(conn, actor, class_id, pupil_ids)
        if withdraw and len(chosen) != 1:
            raise Invalid("Avec plusieurs élèves sélectionnés, seuls des ajouts sont possibles.")
        if add:
            rows = [
                {"pupil_id": p.id, "item_id": item_id, "recorded_by": actor.id, "recorded_at": now}
                for p in chosen
                for item_id in add
            ]
            # one statement per row, RETURNING what it added (psycopg's rowcount is -1 for ON CONFLICT DO NOTHING)
            stmt = _insert_ignore(conn, item_records).returning(item_records.c.pupil_id)
            for row in rows:
                result.added += len(conn.execute(stmt, row).all())
        for item_id in withdraw:
            pupil = chosen[0]
            cond = [item_records.c.pupil_id == pupil.id, item_records.c.item_id == item_id]
            if not actor.is_admin:
                cond.append(item_records.c.recorded_by == actor.id)
            gone = conn.execute(item_records.delete().where(*cond)).rowcount
            if gone:
                result.withdrawn += gone
                write_audit(conn, actor, "item-withdrawn", now, pupil_id=pupil.id, target=item_id)
            else:
                exists = conn.execute(
                    sa.select(item_records.c.item_id).where(
                        item_records.c.pupil_id == pupil.id, item_records.c.item_id == item_id
                    )
                ).first()
                if exists:
                    result.refused.append(item_id)
        if result.added:
            write_audit(conn, actor, "items-recorded", now, target=competence_id,
                         detail=f"{result.added} renseignement(s) pour {len(chosen)} élève(s)")
    return result


def validate_competence(engine: sa.Engine, ref: Referential, actor: Actor, class_id: int, pupil_id: int,
                        competence_id: str, language: str | None, now: datetime) -> bool:
    """Validate a compétence for a pupil (administrators only); False when it was already validated."""
    if not actor.is_admin:
        raise Forbidden("Seul un administrateur peut valider une compétence.")
    if ref.competence(competence_id) is None:
        raise NotFound("Cette compétence n'existe pas.")
    if competence_id == "C2":
        if language not in LANGUAGES:
            raise Invalid("Choisissez la langue vivante étrangère validée.")
    else:
        language = None
    with engine.begin() as conn:
        selected_pupils(conn, actor, class_id, [pupil_id])
        try:
            with conn.begin_nested():
                conn.execute(validations.insert().values(
                    pupil_id=pupil_id, competence_id=competence_id, language=language,
                    validated_by=actor.id, validated_at=now))
        except sa.exc.IntegrityError:
            return False
        write_audit(conn, actor, "competence-validated", now, pupil_id=pupil_id, target=competence_id,
                     detail=language)
    return True


def cancel_competence(engine: sa.Engine, ref: Referential, actor: Actor, class_id: int, pupil_id: int,
                      competence_id: str, now: datetime) -> bool:
    """Cancel a validated compétence (administrators only; audited); False when it was not validated."""
    if not actor.is_admin:
        raise Forbidden("Seul un administrateur peut annuler une compétence validée.")
    if ref.competence(competence_id) is None:
        raise NotFound("Cette compétence n'existe pas.")
    with engine.begin() as conn:
        selected_pupils(conn, actor, class_id, [pupil_id])
        done = conn.execute(
            validations.update()
            .where(validations.c.pupil_id == pupil_id, validations.c.competence_id == competence_id,
                   validations.c.cancelled_at.is_(None))
            .values(cancelled_by=actor.id, cancelled_at=now)
        ).rowcount
        if done:
            write_audit(conn, actor, "competence-cancelled", now, pupil_id=pupil_id, target=competence_id)
    return bool(done)
