"""Administration: imports from the browser, each in three steps: upload, preview (nothing written), confirm, then a
summary. Tokens from a PSKC or OATH CSV file ("Importer des clés", the verifier's ``import_plan``: to add, already
present, refused), and the roster of classes, pupils and teachers ("Importer une liste d'élèves", ``roster``).

Between the preview and the confirmation, what was read travels sealed in the page (``preview_seal``): never in
clear on disk or in the cookie, usable once, in the administrator's session only, for half an hour.
"""

from __future__ import annotations

import base64
import json

from flask import g, render_template, request
from werkzeug.utils import secure_filename

from booklet_web import preview_seal, roster
from booklet_web.admin import _checked_form, bp
from booklet_web.auth import admin_required, services
from booklet_web.forms import EmptyForm, RosterForm, TokenImportForm
from verifier import import_plan
from verifier.errors import ConcurrentChange, ConflictError, ImportFileError, PasswordNeeded
from verifier.interchange import Entry, token_entries
from verifier.store import ImportRecord

STATUS_FR = {import_plan.ADD: "à ajouter", import_plan.PRESENT: "déjà présente", import_plan.REFUSED: "refusée"}
EXPIRED = ("Cet aperçu n'est plus valable (déjà importé, trop ancien ou ouvert dans une autre session) : "
           "déposez le fichier à nouveau.")
#: the audit's detail when a confirmation carries no preview this session may use (facts, never the field)
REFUSED_DETAIL = "preview unknown to this session, already used, expired or altered"
TOO_LARGE = ("Ce fichier est trop grand pour un import dans le navigateur : importez-le avec la commande "
             "jeton-admin import.")


def _file_name(storage) -> str:
    return (secure_filename(storage.filename or "") or "fichier")[:60]


def _pack(name: str, entries: list[Entry]) -> bytes:
    """The entries read at the preview, as the sealed payload (records with their secrets: sealed only)."""
    rows = []
    for e in entries:
        row = {"s": e.serial, "w": e.where, "m": e.model, "a": e.algo}
        if e.record is None:
            row["r"] = e.reason
        else:
            r = e.record
            row.update(k=base64.b64encode(r.secret).decode(), d=r.digits, p=r.period, t=r.drift)
        rows.append(row)
    return json.dumps({"nom": name, "entrees": rows}, separators=(",", ":")).encode()


def _unpack(payload: bytes) -> tuple[str, list[Entry]]:
    data = json.loads(payload)
    entries = []
    for row in data["entrees"]:
        record = None
        if "k" in row:
            record = ImportRecord(serial=row["s"], secret=base64.b64decode(row["k"]), algo=row["a"], digits=row["d"],
                                  period=row["p"], drift=row["t"], model=row["m"])
        entries.append(Entry(row["s"], row["w"], record=record, reason=row.get("r"), model=row["m"],
                             algo=row["a"]))
    return data["nom"], entries


def _token_page(form, status: int = 200, **context):
    return render_template("admin/import_cles.html", form=form, statuses=STATUS_FR, **context), status


@bp.route("/import-cles", methods=["GET", "POST"])
@admin_required
def token_import():
    """Upload a PSKC or CSV file of tokens and see what importing it would do (nothing is written yet)."""
    form = TokenImportForm()
    if request.method == "GET":
        preview_seal.forget("cles")
        return _token_page(form)
    if not form.validate_on_submit():
        return _token_page(form, 400)
    name = _file_name(form.fichier.data)
    psk = None
    if form.cle.data:
        try:
            psk = bytes.fromhex(form.cle.data.strip())
        except ValueError:
            return _token_page(form, 400, error="La clé pré-partagée s'écrit en hexadécimal (0-9, a-f).")
    svc = services()
    try:
        entries = token_entries(form.fichier.data.read(), name, password=form.mot_de_passe.data or None, psk=psk)
    except PasswordNeeded:
        return _token_page(form, 400, error=f"Le fichier {name} est chiffré : indiquez son mot de passe ou sa clé "
                                            "pré-partagée, puis déposez-le à nouveau.")
    except ImportFileError as exc:
        return _token_page(form, 400, error=f"Fichier refusé, rien n'a été importé : {exc.french}")
    plan = import_plan.plan(svc.store, entries)
    try:
        sealed = preview_seal.seal("cles", _pack(name, entries), login=g.user.login, now=svc.clock())
    except preview_seal.PreviewTooLarge:
        return _token_page(form, 400, error=TOO_LARGE)
    return _token_page(form, plan=plan, name=name, sealed=sealed, confirm=EmptyForm())


@bp.route("/import-cles/confirmer", methods=["POST"])
@admin_required
def token_import_confirm():
    """Import the tokens to add of the preview sealed in the form, then say what was added, skipped, refused."""
    _checked_form()
    svc = services()
    try:
        name, entries = _unpack(preview_seal.open_once("cles", request.form.get("apercu"), login=g.user.login,
                                                       now=svc.clock()))
    except preview_seal.PreviewExpired:
        svc.store.record("token.import_file", "refused", actor=g.user.login, detail=REFUSED_DETAIL)
        return _token_page(TokenImportForm(), 400, error=EXPIRED)
    try:
        done = import_plan.apply(svc.store, entries, source=f"console:{name}", actor=g.user.login, now=svc.clock())
    except ConcurrentChange as exc:
        svc.store.record("token.import_file", "refused", actor=g.user.login, detail=f"changed meanwhile; {name}")
        return _token_page(TokenImportForm(), 409, error=exc.french)
    return _token_page(TokenImportForm(), done=done, name=name)


# -- roster ----------------------------------------------------------------------------------------------------

ROSTER_STATUS_FR = {roster.ADD: "à ajouter", roster.PRESENT: "déjà présent(e)", roster.REFUSED: "refusée"}


def _roster_page(form, status: int = 200, **context):
    return render_template("admin/import.html", form=form, statuses=ROSTER_STATUS_FR, **context), status


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def roster_import():
    """Upload the CSV file of classes, pupils and teachers and see what importing it would do (nothing written)."""
    form = RosterForm()
    if request.method == "GET":
        preview_seal.forget("liste")
        return _roster_page(form)
    if not form.validate_on_submit():
        return _roster_page(form, 400)
    data = form.fichier.data.read()
    svc = services()
    try:
        lines, problems = roster.read_roster(data)
    except roster.RosterError as exc:
        return _roster_page(form, 400, problems=exc.problems)
    if not lines and not problems:
        return _roster_page(form, 400, problems=[(0, "aucune ligne à importer")])
    with svc.db.engine.connect() as conn:
        planned, new_classes = roster.plan_roster(conn, lines, problems)
    try:
        sealed = preview_seal.seal("liste", data, login=g.user.login, now=svc.clock())
    except preview_seal.PreviewTooLarge:
        return _roster_page(form, 400, error=TOO_LARGE.replace("jeton-admin import", "jeton-web import-roster"))
    counts = {s: sum(1 for p in planned if p.status == s) for s in ROSTER_STATUS_FR}
    return _roster_page(form, planned=planned, counts=counts, new_classes=new_classes, sealed=sealed,
                        name=_file_name(form.fichier.data), confirm=EmptyForm())


@bp.route("/import/confirmer", methods=["POST"])
@admin_required
def roster_import_confirm():
    """Import the good lines of the previewed roster in one transaction, then say what was done."""
    _checked_form()
    svc = services()
    try:
        data = preview_seal.open_once("liste", request.form.get("apercu"), login=g.user.login, now=svc.clock())
        lines, problems = roster.read_roster(data)
    except (preview_seal.PreviewExpired, roster.RosterError):
        svc.store.record("roster.import", "refused", actor=g.user.login, detail=REFUSED_DETAIL)
        return _roster_page(RosterForm(), 400, error=EXPIRED)
    creator = roster.verifier_user_creator(g.user.login, svc.clock)
    try:
        report = roster.write_roster(svc.db.writer, lines, creator, actor=g.user, now=svc.clock(),
                                     refused=len(problems))
    except ConflictError:
        svc.store.record("roster.import", "refused", actor=g.user.login, detail="changed meanwhile")
        return _roster_page(RosterForm(), 409, error="Un compte de cette liste a été créé entre-temps : rien n'a "
                                                     "été importé, déposez le fichier à nouveau.")
    return _roster_page(RosterForm(), report=report)
