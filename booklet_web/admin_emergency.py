"""Administration: emergency access for a user whose token is lost or left at home (the rule is the verifier's,
``verifier.emergency``). A GET page says what will happen; its POST button issues the code, shown once on the
answer page (never stored in the session, never flashed, never logged)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for

from booklet_web.admin import _checked_form, bp
from booklet_web.auth import admin_required, services
from booklet_web.forms import EmptyForm


def _local(ts: float) -> str:
    zone = services().store.settings.timezone
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).strftime("%d/%m/%Y à %H:%M")


def _user_or_404(login: str):
    user = services().store.find_user(login[:64])
    if user is None:
        abort(404)
    return user


@bp.route("/secours/<login>", methods=["GET", "POST"])
@admin_required
def emergency(login: str):
    """Accès de secours: confirm, then issue (the code shown once), or end the one in progress."""
    import verifier
    from verifier.emergency import end_of_day

    svc = services()
    user = _user_or_404(login)
    settings = svc.store.settings
    now = svc.clock()
    if request.method == "POST":
        _checked_form()
        if request.form.get("action") == "terminer":
            ended = svc.store.end_emergency(user.login, actor=g.user.login, now=now)
            flash(f"Accès de secours de {user.login} terminé." if ended
                  else f"{user.login} n'avait pas d'accès de secours en cours.", "ok")
            return redirect(url_for("admin.user", login=user.login))
        if request.form.get("action") != "delivrer":
            abort(400)
        try:
            issued = svc.store.issue_emergency(user.login, actor=g.user.login, now=now)
        except verifier.VerifierError as exc:
            return render_template("admin/secours.html", user=user, live=None, form=EmptyForm(), issued=None,
                                   uses=settings.emergency_uses, until=_local(end_of_day(now, settings.timezone)),
                                   error=exc.french or "Accès de secours impossible pour cet utilisateur."), 409
        return render_template("admin/secours.html", user=user, issued=issued, until=_local(issued.expires_at),
                               form=EmptyForm(), live=None, uses=issued.uses)
    live = svc.store.emergency_status(user.login, now)
    return render_template("admin/secours.html", user=user, live=live, issued=None, form=EmptyForm(),
                           uses=settings.emergency_uses, until=_local(end_of_day(now, settings.timezone)),
                           live_until=_local(live.expires_at) if live else None)
