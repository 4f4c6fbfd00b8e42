"""Administration: the health of the tokens (issue 17). ``/admin/sante`` lists the fleet's tokens that need a look
(clock leaving the window within 90 days, unused for 60 days, repeated failures, low batteries: the rules are the
verifier's, ``verifier.fleet_health``); ``/admin/sante/<serial>`` draws one token's drift over time, an SVG chart drawn
on the server (no script, allowed by the strict CSP: presentation attributes, no style attribute), with a text
summary and a table of the measurements. The token page includes the same partial
(``admin/_sante_cle.html``) with :func:`token_health_context`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, render_template

from booklet_web.admin import bp
from booklet_web.auth import admin_required, services

# The chart's frame, in SVG user units (it scales to the page's width)
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
TABLE_ROWS = 60  # the measurements' table shows the latest ones
SOURCES_FR = {"login": "connexion", "next_code": "code suivant"}
STATES_FR = {"ready": "prête", "assigned": "attribuée (nouveau PIN)", "active": "active", "locked": "bloquée",
             "disabled": "désactivée", "retired": "retirée", "pending": "en attente", "failed": "échec"}


def _zone() -> ZoneInfo:
    return ZoneInfo(services().store.settings.timezone)


def _day(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, _zone()).strftime("%d/%m/%Y")


def _moment(ts: float) -> str:
    return datetime.fromtimestamp(ts, _zone()).strftime("%d/%m/%Y %H:%M")


def _rate(fit) -> str:
    return f"{fit.rate:+.1f} s/jour ({fit.ppm:+.1f} ppm)".replace(".", ",")


def _volts(volts: float) -> str:
    return f"{volts:.2f} V".replace(".", ",")


@bp.route("/sante")
@admin_required
def health():
    """Santé des clés: the four lists of the fleet."""
    from verifier import fleet_health

    svc = services()
    now, settings = svc.clock(), svc.store.settings
    with svc.store.engine.connect() as conn:
        lists = {"drifting": fleet_health.drifting(conn, settings, now), "unused": fleet_health.unused(conn, now),
                 "failing": fleet_health.failing(conn, settings, now), "batteries": fleet_health.low_batteries(conn)}
    return render_template("admin/sante.html", **lists, day=_day, rate=_rate, volts=_volts, states=STATES_FR,
                           fleet=fleet_health, limit=fleet_health.LIMIT, low=_volts(fleet_health.health.BATTERY_LOW),
                           next_code=settings.next_code_after)


@bp.route("/sante/<serial>")
@admin_required
def token_health(serial: str):
    """One token's drift over time (the partial the token page includes, on a page of its own)."""
    context = token_health_context(serial[:16])
    if context is None:
        abort(404)
    return render_template("admin/sante_cle.html", **context)


def token_health_context(serial: str) -> dict | None:
    """What ``admin/_sante_cle.html`` needs for ``serial`` (``{"sante": ...}``), or None for an unknown serial."""
    import verifier
    from verifier import fleet_health, health

    svc = services()
    now, settings = svc.clock(), svc.store.settings
    try:
        with svc.store.engine.connect() as conn:
            h = fleet_health.health_of(conn, settings, serial)
    except verifier.TokenNotFound:
        return None
    margin = settings.window + 0.5
    summary = {
        "drift": f"{h.drift:+d} pas ({h.drift * h.period:+d} s)",
        "points": len(h.points),
        "fit": h.fit,
        "rate": _rate(h.fit) if h.fit else None,
        "first": _day(h.fit.first_at) if h.fit else None,
        "last": _day(h.fit.last_at) if h.fit else None,
        "leaves_window": _day(h.leaves_window),
        "leaves_resync": _day(h.leaves_resync),
        "window_passed": h.leaves_window is not None and h.leaves_window <= now,
        "battery": None if h.battery_volts is None else _volts(h.battery_volts),
        "battery_low": h.battery_volts is not None and h.battery_volts < health.BATTERY_LOW,
        "battery_at": _day(h.battery_at),
        "window": settings.window, "resync": settings.resync_window,
        "min_points": health.MIN_POINTS, "min_days": int(health.MIN_SPAN_DAYS), "horizon": fleet_health.HORIZON_DAYS,
    }
    rows = [{"at": _moment(at), "drift": f"{d:+d}", "seconds": f"{d * h.period:+d}", "source": SOURCES_FR.get(s, s)}
            for at, d, s in reversed(h.points[-TABLE_ROWS:])]
    return {"sante": {"serial": h.serial, "login": h.login, "state": STATES_FR.get(h.state, h.state),
                      "period": h.period, "summary": summary, "rows": rows, "more": max(len(h.points) - TABLE_ROWS, 0),
                      "chart": _chart(h, now, margin) if h.points else None}}


def _chart(h, now: float, margin: float) -> dict:
    """Coordinates of the chart: x is time, y the drift in steps; the points, the fitted line up to 90 days ahead,
    and the limits of the verification window around the drift last learned."""
    from verifier import fleet_health, health

    first = h.points[0][0]
    x0 = min(first, now - 30 * health.DAY)
    x1 = max(now, h.points[-1][0]) + (fleet_health.HORIZON_DAYS * health.DAY if h.fit else health.DAY)
    ys = [d for _at, d, _s in h.points] + [h.drift - margin, h.drift + margin]
    if h.fit:
        ys += [h.fit.at(x) / h.period for x in (first, x1)]
    y0, y1 = min(ys) - 0.5, max(ys) + 0.5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return round(LEFT + (t - x0) / (x1 - x0) * plot_w, 1)

    def y(steps: float) -> float:
        return round(TOP + (y1 - steps) / (y1 - y0) * plot_h, 1)

    span = y1 - y0
    every = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if span / s <= 8)
    y_ticks = [{"y": y(v), "label": f"{v:+d}"} for v in range(int(y0 // every * every), int(y1) + 1, every)
               if y0 <= v <= y1]
    anchors = ("start", "middle", "middle", "middle", "end")  # the end labels stay inside the frame
    x_ticks = [{"x": x(x0 + (x1 - x0) * i / 4), "label": _day(x0 + (x1 - x0) * i / 4), "anchor": anchors[i]}
               for i in range(5)]
    fit_line = None
    if h.fit:
        fit_line = {"x1": x(first), "y1": y(h.fit.at(first) / h.period), "x2": x(x1),
                    "y2": y(h.fit.at(x1) / h.period)}
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
        "points": [{"x": x(at), "y": y(d)} for at, d, _s in h.points],
        "fit": fit_line,
        "upper": y(h.drift + margin), "lower": y(h.drift - margin),
        "now": x(now), "y_ticks": y_ticks, "x_ticks": x_ticks,
    }
