"""Exports: the class as CSV and the LPC XML of the national application (urn:ac-grenoble.fr:lpc:import:v1.0).

The XML carries, per pupil, palier 3, each compétence validated (its date) and each item recorded (its
date); only positive validations are exported, as the national application expected.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import UTC, datetime
from xml.etree import ElementTree as ET  # noqa: S405 - used to write XML, never to parse untrusted input

import sqlalchemy as sa

from booklet_web.referential import Referential
from booklet_web.tables import classes, item_records, pupils, validations
from verifier.csv_cells import safe_cell

LPC_NS = "urn:ac-grenoble.fr:lpc:import:v1.0"
UAI = re.compile(r"^[0-9]{7}[A-Z]$")


def slug(name: str) -> str:
    """A file-name-safe form of a class name (ASCII letters, digits and dashes)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-") or "classe"


def download_headers(filename: str) -> dict[str, str]:
    """The headers of an export: a download named ``filename`` that no browser or proxy keeps a copy of (it holds
    pupils' names and results)."""
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


def pupil_row(conn: sa.Connection, pupil_id: int) -> sa.Row | None:
    """The pupil with this id, or None."""
    return conn.execute(sa.select(pupils).where(pupils.c.id == pupil_id)).first()


def _date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).date().isoformat()


def class_csv(conn: sa.Connection, ref: Referential, class_id: int) -> str:
    """One line per pupil: identifiant, nom, prénom, then per compétence the validation date (and language
    for C2) and the number of items recorded out of the compétence's items. Semicolon-separated (French
    spreadsheets), UTF-8 with a byte order mark so that spreadsheets read the accents; a cell that a spreadsheet
    would run as a formula starts with a quote (verifier.csv_cells)."""
    rows = list(conn.execute(sa.select(pupils).where(pupils.c.class_id == class_id)
                             .order_by(pupils.c.last_name, pupils.c.first_name)))
    ids = [p.id for p in rows]
    counts: dict[tuple[int, str], int] = {}
    for r in conn.execute(sa.select(item_records.c.pupil_id, item_records.c.item_id)
                          .where(item_records.c.pupil_id.in_(ids))):
        comp = r.item_id.split(".")[0]
        counts[(r.pupil_id, comp)] = counts.get((r.pupil_id, comp), 0) + 1
    valid = {(v.pupil_id, v.competence_id): v for v in conn.execute(
        sa.select(validations).where(validations.c.pupil_id.in_(ids), validations.c.cancelled_at.is_(None)))}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    header = ["identifiant", "nom", "prenom"]
    for comp in ref.competences:
        header += [f"{comp.id} validee le", f"{comp.id} items"]
        if comp.id == "C2":
            header.append("C2 langue")
    writer.writerow(header)
    for p in rows:
        line = [p.ref, p.last_name, p.first_name]
        for comp in ref.competences:
            v = valid.get((p.id, comp.id))
            line += [_date(v.validated_at) if v else "", f"{counts.get((p.id, comp.id), 0)}/{len(comp.items)}"]
            if comp.id == "C2":
                line.append(v.language if v and v.language else "")
        writer.writerow([safe_cell(cell) for cell in line])  # a pupil named "=HYPERLINK(...)" stays text
    return "\ufeff" + out.getvalue()


def lpc_xml(conn: sa.Connection, ref: Referential, uai: str, class_ids: list[int] | None = None) -> bytes:
    """The LPC XML import file for these classes (all when None) of the school ``uai``."""
    if not UAI.match(uai):
        raise ValueError("UAI must be 7 digits and a letter")
    query = sa.select(pupils, classes.c.name.label("class_name")).join(classes, classes.c.id == pupils.c.class_id)
    if class_ids is not None:
        query = query.where(pupils.c.class_id.in_(class_ids))
    rows = list(conn.execute(query.order_by(classes.c.name, pupils.c.last_name, pupils.c.first_name)))
    ids = [p.id for p in rows]
    recs: dict[int, list] = {}
    for r in conn.execute(sa.select(item_records).where(item_records.c.pupil_id.in_(ids))
                          .order_by(item_records.c.item_id)):
        recs.setdefault(r.pupil_id, []).append(r)
    valid: dict[int, dict[str, sa.Row]] = {}
    for v in conn.execute(sa.select(validations).where(validations.c.pupil_id.in_(ids),
                                                       validations.c.cancelled_at.is_(None))):
        valid.setdefault(v.pupil_id, {})[v.competence_id] = v

    ET.register_namespace("", LPC_NS)

    def el(parent, tag, text=None, **attrs):
        node = ET.SubElement(parent, f"{{{LPC_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    root = ET.Element(f"{{{LPC_NS}}}lpc")
    head = el(root, "entete")
    el(head, "editeur", "Jeton")
    el(head, "application", "jeton-web")
    el(head, "etablissement", uai)
    data = el(root, "donnees")
    for p in rows:
        pupil_el = el(data, "eleve", id=p.ref)
        palier = el(pupil_el, "palier", id="3")
        by_comp: dict[str, list] = {}
        for r in recs.get(p.id, []):
            by_comp.setdefault(r.item_id.split(".")[0], []).append(r)
        for comp in ref.competences:
            v = valid.get(p.id, {}).get(comp.id)
            items = sorted(by_comp.get(comp.id, []), key=lambda r: int(r.item_id.split(".")[1]))
            if v is None and not items:
                continue
            comp_el = el(palier, "competence", id=comp.id)
            if v is not None:
                val = el(comp_el, "validation")
                el(val, "date", _date(v.validated_at))
                if v.language:
                    el(val, "langue", v.language)
            for r in items:
                item_el = el(comp_el, "item", id=r.item_id)
                el(el(item_el, "renseignement"), "date", _date(r.recorded_at))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
