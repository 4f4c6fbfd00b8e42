"""Administration: the verifier's audit in words (``verifier.audit_words``): French labels, local time with the
UTC value on hover, filters (user, token, kind, result, dates), and the same rows as CSV (neutralised cells)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request

from booklet_web.admin import bp
from booklet_web.auth import admin_required, services
from booklet_web.exports import download_headers
from verifier.audit_words import KINDS, local_time, to_csv, utc_time, words

#: at most this many rows on the page (the newest); the CSV takes up to EXPORT_ROWS
PAGE_ROWS = 500
EXPORT_ROWS = 100_000
RESULTS = {"acceptés": ("ACCEPT",), "refusés": ("REJECT", "LOCKED", "THROTTLED")}


@dataclass
class Filters:
    identifiant: str = ""
    cle: str = ""
    type: str = ""
    resultat: str = ""
    du: str = ""
    au: str = ""
    error: str | None = None

    def query(self, timezone: str) -> dict:
        """The store's audit filters; an invalid date is ignored and said in ``error``."""
        zone = ZoneInfo(timezone)
        since = until = None
        try:
            if self.du:
                since = datetime.combine(date.fromisoformat(self.du), time(), zone).timestamp()
            if self.au:
                until = datetime.combine(date.fromisoformat(self.au) + timedelta(days=1), time(), zone).timestamp()
        except ValueError:
            self.error = "Date invalide : choisissez-la dans le calendrier (AAAA-MM-JJ)."
            self.du = self.au = ""
            since = until = None
        return {"login": self.identifiant or None, "serial": self.cle or None, "action": KINDS.get(self.type),
                "outcomes": RESULTS.get(self.resultat), "since": since, "until": until}


def _filters() -> Filters:
    args = request.args
    return Filters(identifiant=(args.get("identifiant") or "").strip()[:64], cle=(args.get("cle") or "").strip()[:16],
                   type=args.get("type", "") if args.get("type") in KINDS else "",
                   resultat=args.get("resultat", "") if args.get("resultat") in RESULTS else "",
                   du=(args.get("du") or "")[:10], au=(args.get("au") or "")[:10])


@bp.route("/journal-connexions")
@admin_required
def login_audit():
    """The verifier's audit: every login attempt and every administrative act on users and tokens."""
    store = services().store
    zone = store.settings.timezone
    filters = _filters()
    entries = store.audit(limit=PAGE_ROWS, **filters.query(zone))
    rows = [(e, words(e), local_time(e.at, zone), utc_time(e.at)) for e in entries]
    return render_template("admin/journal_connexions.html", rows=rows, filters=filters, kinds=KINDS,
                           results=RESULTS, timezone=zone, full=len(rows) == PAGE_ROWS, error=filters.error)


@bp.route("/journal-connexions.csv")
@admin_required
def login_audit_csv():
    """The same rows, filtered alike, as CSV (local and UTC times, French words, neutralised cells)."""
    store = services().store
    zone = store.settings.timezone
    entries = store.audit(limit=EXPORT_ROWS, **_filters().query(zone))
    return Response(to_csv(entries, zone), mimetype="text/csv; charset=utf-8",
                    headers=download_headers("journal-connexions.csv"))
