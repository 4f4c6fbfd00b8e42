"""The audit in words (DESIGN.md §1: audit wording lives once, in the verifier): what each row means, in French,
for the screens and exports of every front end, and the local time of each row.

    from verifier.audit_words import words
    words(entry)  # -> Words(action="connexion", outcome="refusé : code déjà utilisé")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from verifier.audit import AuditEntry

ACTIONS = {
    "auth": "connexion", "next_code": "code suivant", "set_pin": "PIN choisi",
    "token.create": "clé créée", "token.ready": "clé préparée", "token.failed": "préparation échouée",
    "token.import": "clé importée", "token.import_file": "import de clés", "token.assign": "clé affectée",
    "token.unassign": "clé désaffectée",
    "token.unlock": "clé débloquée", "token.lock": "clé bloquée", "token.disable": "clé désactivée",
    "token.retire": "clé retirée", "token.reset_pin": "PIN réinitialisé", "token.resync": "clé resynchronisée",
    "token.secret_read": "secret lu", "user.add": "utilisateur ajouté", "user.update": "utilisateur modifié",
    "session.end": "session fermée", "keys.rotate": "clés de chiffrement renouvelées",
    "db.init": "base préparée", "emergency.issue": "accès de secours délivré",
    "emergency.end": "accès de secours terminé", "roster.import": "import d'une liste d'élèves",
}

#: why an attempt was refused (the ``reason=`` of its detail)
REASONS = {
    "format": "passcode mal formé", "pin": "PIN erroné", "code": "code erroné", "pin+code": "PIN et code erronés",
    "replay": "code déjà utilisé", "unknown user or no token": "identifiant inconnu ou sans clé",
    "locked": "clé verrouillée", "emergency": "code de secours erroné", "contention": "trop d'accès simultanés",
    "invalid ticket": "délai dépassé ou étape invalide", "changed meanwhile": "clé modifiée entre-temps",
    "outside window": "horloge de la clé décalée", "new PIN": "première connexion",
}

OUTCOMES = {
    "ACCEPT": "accepté", "REJECT": "refusé", "LOCKED": "refusé, clé verrouillée", "THROTTLED": "refusé : trop de "
    "tentatives, attente", "NEW_PIN_REQUIRED": "nouveau PIN demandé", "NEXT_CODE_REQUIRED": "code suivant demandé",
    "ok": "fait", "refused": "refusé", "started": "commencée", "resumed": "reprise",
    # token states after an act on a token
    "pending": "en préparation", "ready": "prête", "assigned": "affectée (nouveau PIN)", "active": "active",
    "locked": "verrouillée", "disabled": "désactivée", "retired": "retirée", "failed": "en échec",
}

#: the filters of an audit page: label -> action prefix
KINDS = {"connexions": "auth", "clés": "token.", "utilisateurs": "user.", "sessions": "session.",
         "accès de secours": "emergency."}


@dataclass(frozen=True)
class Words:
    action: str
    outcome: str


def _reasons(detail: str | None) -> list[str]:
    if not detail or not detail.startswith("reason="):
        return []
    words = detail[len("reason="):].split(";")[0].strip()
    if words in REASONS:
        return [REASONS[words]]
    return [REASONS.get(w.strip(), w.strip()) for w in words.split(",") if w.strip()]


def words(entry: AuditEntry) -> Words:
    """The row's action and outcome in French, e.g. ("connexion", "refusé : code déjà utilisé")."""
    action = ACTIONS.get(entry.action, entry.action)
    outcome = OUTCOMES.get(entry.outcome, entry.outcome)
    detail = entry.detail or ""
    if entry.outcome in ("REJECT", "LOCKED"):
        reasons = _reasons(detail)
        if reasons:
            outcome = f"{outcome} : {', '.join(reasons)}"
    elif entry.outcome == "THROTTLED" and detail.startswith("wait="):
        outcome = f"{outcome} {detail[len('wait='):].rstrip('s')} s"
    elif entry.outcome == "ACCEPT" and detail.startswith("emergency"):
        outcome = "accepté (accès de secours)"
    elif entry.outcome == "NEXT_CODE_REQUIRED" and detail.startswith("after "):
        outcome = f"{outcome} (après {detail.split()[1]} échecs)"
    elif entry.outcome == "NEXT_CODE_REQUIRED" and detail == "outside window":
        outcome = f"{outcome} (horloge de la clé décalée)"
    return Words(action, outcome)


def local_time(at: float, timezone: str) -> str:
    """``at`` (Unix seconds) in the installation's time zone, e.g. ``15/01/2027 09:00:05``."""
    return datetime.fromtimestamp(at, ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M:%S")


def utc_time(at: float) -> str:
    """``at`` in UTC, ISO 8601: ``2027-01-15T08:00:05+00:00``."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def to_csv(entries: list[AuditEntry], timezone: str) -> str:
    """The audit in words as CSV (French headers, local and UTC times); no cell a spreadsheet would run."""
    import csv
    import io

    from verifier.csv_cells import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f"date ({timezone})", "date (UTC)", "action", "résultat", "par", "identifiant", "clé",
                     "adresse", "détail"])
    for e in entries:
        said = words(e)
        writer.writerow([safe_cell(v) for v in (local_time(e.at, timezone), utc_time(e.at), said.action,
                                                 said.outcome, e.actor, e.login, e.serial, e.source, e.detail)])
    return out.getvalue()
