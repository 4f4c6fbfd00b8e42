"""The class overview: for each pupil of a class, items recorded out of each compétence's items, and validations.

Two aggregate queries for the whole class, whatever its size (never one query per pupil): the records counted
per pupil and compétence (items joined to ``lpc_items`` for their compétence), and the validations in force.
The caller checks that the actor may open the class (``livret.get_class``) before calling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from booklet_web.referential import Referential
from booklet_web.tables import item_records, lpc_items, pupils, validations


@dataclass(frozen=True)
class Progress:
    """One pupil in one compétence: items acquired out of the compétence's items, and whether it is validated."""

    acquired: int
    total: int
    validated: bool


@dataclass(frozen=True)
class PupilProgress:
    """One line of the overview: the pupil, then one :class:`Progress` per compétence, in the referential's order."""

    pupil: sa.Row
    cells: tuple[Progress, ...]


def class_overview(conn: sa.Connection, ref: Referential, class_id: int,
                   class_pupils: Sequence[sa.Row]) -> list[PupilProgress]:
    """The overview lines of ``class_pupils`` (the pupils of ``class_id``, in the order to show them)."""
    in_class = pupils.c.class_id == class_id
    counts_query = (
        sa.select(item_records.c.pupil_id, lpc_items.c.competence_id, sa.func.count().label("n"))
        .join(lpc_items, lpc_items.c.id == item_records.c.item_id)
        .join(pupils, pupils.c.id == item_records.c.pupil_id)
        .where(in_class)
        .group_by(item_records.c.pupil_id, lpc_items.c.competence_id)
    )
    counts = {(r.pupil_id, r.competence_id): r.n for r in conn.execute(counts_query)}
    valid_query = (
        sa.select(validations.c.pupil_id, validations.c.competence_id)
        .join(pupils, pupils.c.id == validations.c.pupil_id)
        .where(in_class, validations.c.cancelled_at.is_(None))
    )
    valid = {(r.pupil_id, r.competence_id) for r in conn.execute(valid_query)}
    totals = [(comp.id, len(comp.items)) for comp in ref.competences]
    return [
        PupilProgress(p, tuple(Progress(counts.get((p.id, cid), 0), total, (p.id, cid) in valid)
                               for cid, total in totals))
        for p in class_pupils
    ]
