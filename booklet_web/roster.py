"""Roster import: classes, pupils, teachers and their teaching assignments from one CSV file.

Format (docs/booklet.md): a header line naming the columns ``type;classe;nom;prenom;identifiant`` (any
order, ``;`` or ``,``), then one line per person. ``type`` is ``eleve``, ``enseignant`` or
``administrateur``. Every line is checked first; if any is wrong, the import stops with every bad line's
number and nothing is written. Otherwise everything is written in one transaction.
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from booklet_web.livret import Actor, write_audit
from booklet_web.tables import classes, pupils, teaching, users

COLUMNS = ("type", "classe", "nom", "prenom", "identifiant")
KINDS = {"eleve": "pupil", "enseignant": "teacher", "administrateur": "admin"}
MAX_LINES = 5000
MAX_BYTES = 2 * 1024 * 1024
_CLASS = re.compile(r"^[0-9A-Za-zÀ-ÿ][0-9A-Za-zÀ-ÿ _.-]{0,39}$")
_PUPIL_REF = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

#: (connection, login, display name, role) -> new user id; the verifier's library does it in the same transaction
CreateUser = Callable[[sa.Connection, str, str, str], int]


class RosterError(Exception):
    """The file was refused; ``problems`` lists (line number, French message); nothing was written."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = "; ".join(f"ligne {n} : {m}" if n else m for n, m in problems[:20])
        more = f" (et {len(problems) - 20} autres)" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} erreur(s), rien n'a été importé : {lines}{more}")


@dataclass(frozen=True)
class RosterLine:
    line: int
    kind: str
    class_name: str
    last_name: str
    first_name: str
    ident: str


@dataclass
class RosterReport:
    """What an import wrote."""

    classes: int = 0
    pupils_added: int = 0
    pupils_updated: int = 0
    users_added: int = 0
    assignments: int = 0
    refused: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.classes} classe(s) créée(s), {self.pupils_added} élève(s) ajouté(s), "
                f"{self.pupils_updated} élève(s) mis à jour, {self.users_added} compte(s) créé(s), "
                f"{self.assignments} affectation(s) ajoutée(s)")
        return text + (f", {self.refused} ligne(s) refusée(s)" if self.refused else "")


def _shown(text: str, limit: int) -> str:
    """A cell as an error message may quote it: cut, control characters (a newline in a quoted cell) as '?'."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().strip().lower()


def parse_roster(data: bytes) -> list[RosterLine]:
    """Read and check every line; RosterError lists every problem with its line number."""
    lines, problems = read_roster(data)
    if problems:
        raise RosterError(problems)
    if not lines:
        raise RosterError([(0, "aucune ligne à importer")])
    return lines


def read_roster(data: bytes) -> tuple[list[RosterLine], list[tuple[int, str]]]:
    """The good lines and the refused ones (line number, French reason); RosterError for a file that cannot be
    read as a whole (encoding, header, quotes, size)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError([(0, "le fichier n'est pas encodé en UTF-8 (enregistrez-le en « CSV UTF-8 »)")]) from None
    if not text.strip():
        raise RosterError([(0, "le fichier est vide")])
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [_plain(h) for h in next(reader)]
    except csv.Error:
        raise RosterError([(1, "ligne illisible (guillemets mal fermés ou caractère nul)")]) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError([(1, "colonnes manquantes dans l'en-tête : " + ", ".join(missing)
                            + " (attendu : " + ";".join(COLUMNS) + ")")])
    index = {c: header.index(c) for c in COLUMNS}
    problems: list[tuple[int, str]] = []
    lines: list[RosterLine] = []
    seen_pupils: dict[str, int] = {}
    try:
        rows = list(reader)
    except csv.Error:
        raise RosterError([(reader.line_num, "ligne illisible (guillemets mal fermés ou caractère nul)")]) from None
    if len(rows) > MAX_LINES:
        raise RosterError([(0, f"trop de lignes ({len(rows)}, au plus {MAX_LINES} par fichier)")])
    for offset, row in enumerate(rows):
        number = offset + 2
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            problems.append((number, f"{len(row)} colonne(s) au lieu de {len(header)}"))
            continue
        value = {c: row[i].strip() for c, i in index.items()}
        kind = KINDS.get(_plain(value["type"]))
        errs = []
        if kind is None:
            errs.append(f"type « {_shown(value['type'], 20)} » inconnu (eleve, enseignant ou administrateur)")
        for col, label in (("nom", "nom"), ("prenom", "prénom")):
            if not value[col]:
                errs.append(f"{label} manquant")
            elif len(value[col]) > 100:
                errs.append(f"{label} trop long (100 caractères au plus)")
        klass = value["classe"]
        if kind == "pupil" and not klass:
            errs.append("classe manquante pour un élève")
        if klass and not _CLASS.match(klass):
            errs.append(f"nom de classe « {_shown(klass, 40)} » invalide")
        ident = value["identifiant"]
        if kind == "pupil":
            if not _PUPIL_REF.match(ident):
                errs.append("identifiant d'élève manquant ou invalide (lettres, chiffres, - et _)")
            elif ident in seen_pupils:
                errs.append(f"élève {ident} déjà présent ligne {seen_pupils[ident]}")
            else:
                seen_pupils[ident] = number
        elif kind is not None and not _LOGIN.match(ident):
            errs.append("identifiant de connexion manquant ou invalide (minuscules, chiffres, . _ -)")
        if errs:
            problems.append((number, ", ".join(errs)))
        else:
            lines.append(RosterLine(number, kind, klass, value["nom"], value["prenom"], ident))
    return lines, problems


def import_roster(engine: sa.Engine, data: bytes, create_user: CreateUser, *, actor: Actor | None = None,
                  now: float | None = None) -> RosterReport:
    """Check the whole file, then write it in one transaction (nothing is written when any line is wrong), with
    one row of the booklet's audit saying who imported what (``actor`` None: the command line)."""
    return write_roster(engine, parse_roster(data), create_user, actor=actor, now=now)


def write_roster(engine: sa.Engine, lines: list[RosterLine], create_user: CreateUser, *, actor: Actor | None = None,
                 now: float | None = None, refused: int = 0) -> RosterReport:
    """Write checked ``lines`` in one transaction, with the audit row (``refused``: lines left out, counted)."""
    report = RosterReport(refused=refused)
    with engine.begin() as conn:
        class_ids = {r.name: r.id for r in conn.execute(sa.select(classes.c.id, classes.c.name))}

        def class_id(name: str) -> int:
            if name not in class_ids:
                class_ids[name] = conn.execute(classes.insert().values(name=name)).inserted_primary_key[0]
                report.classes += 1
            return class_ids[name]

        known_users = {r.login: (r.id, r.role) for r in conn.execute(sa.select(users.c.id, users.c.login,
                                                                                users.c.role))}
        for line in lines:
            if line.kind == "pupil":
                cid = class_id(line.class_name)
                existing = conn.execute(sa.select(pupils.c.id).where(pupils.c.ref == line.ident)).first()
                values = {"class_id": cid, "last_name": line.last_name, "first_name": line.first_name}
                if existing:
                    conn.execute(pupils.update().where(pupils.c.id == existing.id).values(**values))
                    report.pupils_updated += 1
                else:
                    conn.execute(pupils.insert().values(ref=line.ident, **values))
                    report.pupils_added += 1
                continue
            role = "admin" if line.kind == "admin" else "teacher"
            if line.ident in known_users:
                uid, have_role = known_users[line.ident]
                if have_role != role:
                    report.notes.append(f"ligne {line.line} : {line.ident} existe déjà avec le rôle {have_role} "
                                        "(rôle inchangé)")
            else:
                uid = create_user(conn, line.ident, f"{line.first_name} {line.last_name}", role)
                known_users[line.ident] = (uid, role)
                report.users_added += 1
            if line.class_name:
                cid = class_id(line.class_name)
                found = conn.execute(sa.select(teaching).where(teaching.c.user_id == uid,
                                                               teaching.c.class_id == cid)).first()
                if not found:
                    conn.execute(teaching.insert().values(user_id=uid, class_id=cid))
                    report.assignments += 1
        write_audit(conn, actor, "roster-imported", datetime.fromtimestamp(time.time() if now is None else now, UTC),
                    detail=report.summary()[:300])
    return report


def verifier_user_creator(actor: str, clock: Callable[[], float] = time.time) -> CreateUser:
    """A :data:`CreateUser` that creates the account with the verifier's :func:`verifier.insert_user` (its login
    check, ``users`` row and audit row) in the caller's transaction, so that a refused roster leaves no account
    behind."""
    from verifier.accounts import insert_user

    def create(conn: sa.Connection, login: str, name: str, role: str) -> int:
        return insert_user(conn, login, name, role, actor=actor, now=clock()).id

    return create


#: what a roster line becomes, for the console's preview: to add, already present, refused
ADD, PRESENT, REFUSED = "add", "present", "refused"
_KIND_FR = {"pupil": "élève", "teacher": "enseignant", "admin": "administrateur"}


@dataclass(frozen=True)
class PlannedLine:
    """One line of a roster as the preview shows it; ``note`` says in French what importing it will do."""

    line: int
    status: str
    note: str
    kind: str = ""
    class_name: str = ""
    name: str = ""
    ident: str = ""


def plan_roster(conn: sa.Connection, lines: list[RosterLine],
                problems: list[tuple[int, str]]) -> tuple[list[PlannedLine], int]:
    """What :func:`write_roster` would do with each line (reads only), and how many classes it would create."""
    class_names = {r.name for r in conn.execute(sa.select(classes.c.name))}
    known_pupils = {r.ref: r for r in conn.execute(sa.select(pupils.c.ref, pupils.c.class_id, pupils.c.last_name,
                                                                  pupils.c.first_name, classes.c.name)
                                                      .join(classes, classes.c.id == pupils.c.class_id))}
    known_users = {r.login: r.role for r in conn.execute(sa.select(users.c.login, users.c.role))}
    new_classes: set[str] = set()
    planned = [PlannedLine(n, REFUSED, message) for n, message in problems]
    for line in lines:
        if line.class_name and line.class_name not in class_names:
            new_classes.add(line.class_name)
        facts = {"line": line.line, "kind": _KIND_FR[line.kind], "class_name": line.class_name,
                 "name": f"{line.first_name} {line.last_name}", "ident": line.ident}
        if line.kind == "pupil":
            old = known_pupils.get(line.ident)
            if old is None:
                planned.append(PlannedLine(status=ADD, note=f"élève à ajouter en {line.class_name}", **facts))
            elif (old.name, old.last_name, old.first_name) == (line.class_name, line.last_name, line.first_name):
                planned.append(PlannedLine(status=PRESENT, note="déjà présent(e), inchangé(e)", **facts))
            else:
                planned.append(PlannedLine(status=PRESENT, note=f"déjà présent(e) : mis(e) à jour (classe "
                                                                f"{line.class_name})", **facts))
            continue
        where = f", affecté(e) à {line.class_name}" if line.class_name else ""
        if line.ident in known_users:
            have = known_users[line.ident]
            role = "admin" if line.kind == "admin" else "teacher"
            kept = f" (rôle {'administrateur' if have == 'admin' else 'enseignant'} inchangé)" if have != role else ""
            planned.append(PlannedLine(status=PRESENT, note=f"compte existant{kept}{where}", **facts))
        else:
            known_users[line.ident] = "admin" if line.kind == "admin" else "teacher"
            planned.append(PlannedLine(status=ADD, note=f"compte à créer{where}", **facts))
    planned.sort(key=lambda p: p.line)
    return planned, len(new_classes)
