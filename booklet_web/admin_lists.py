"""What the console's token and user lists share: the reading of their GET filter forms (a bad value is ignored
and said, never a 500), the booklet's classes (the verifier knows none: a class filter becomes the ids of its
teachers), the pagination links, and times in the installation's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import request, url_for

from booklet_web.auth import services
from booklet_web.forms import parse_id
from booklet_web.tables import classes, teaching
from verifier.fleet import SEARCH_MAX

#: the longest list of values a GET filter reads (each parameter is short; more is ignored)
ARG_MAX = 64


def arg(name: str, size: int = ARG_MAX) -> str:
    """A GET parameter, stripped and cut to ``size`` characters ("" when absent)."""
    return (request.args.get(name) or "").strip()[:size]


def search_arg() -> str:
    return arg("q", SEARCH_MAX)


def page_arg() -> int:
    """The page asked for: digits only, else the first page; a page past the end is the last one (fleet)."""
    return parse_id(request.args.get("page")) or 1


def class_choices() -> list:
    """Every class of the booklet (id, name), by name: the "Classe" filter's options."""
    with services().db.engine.connect() as conn:
        return list(conn.execute(sa.select(classes.c.id, classes.c.name).order_by(classes.c.name)))


def class_filter(errors: list[str]) -> tuple[str, tuple[int, ...] | None]:
    """The "Classe" filter: (the value to keep in the form, the ids of the class's teachers); an unknown class is
    ignored and said in ``errors``."""
    raw = arg("classe", 12)
    if not raw:
        return "", None
    class_id = parse_id(raw)
    with services().db.engine.connect() as conn:
        known = class_id is not None and conn.execute(
            sa.select(classes.c.id).where(classes.c.id == class_id)).first() is not None
        if not known:
            errors.append("Classe inconnue : ce filtre est ignoré.")
            return "", None
        ids = tuple(conn.execute(sa.select(teaching.c.user_id).where(teaching.c.class_id == class_id)).scalars())
    return raw, ids


def pages(endpoint: str, found, kept: dict) -> dict:
    """The pagination of a list: "page N sur M", and the links to the previous and next pages keeping the
    filters (``kept``: the form's values, empty ones dropped)."""
    args = {k: v for k, v in kept.items() if v not in ("", None)}
    return {
        "page": found.page, "pages": found.pages, "total": found.total, "first": found.first, "last": found.last,
        "previous": url_for(endpoint, **args, page=found.page - 1) if found.page > 1 else None,
        "next": url_for(endpoint, **args, page=found.page + 1) if found.page < found.pages else None,
    }


def when(at: float | None, *, seconds: bool = False) -> str:
    """A time (Unix seconds) in the installation's time zone, e.g. ``15/01/2027 à 09:00``; "" for None."""
    if at is None:
        return ""
    zone = ZoneInfo(services().store.settings.timezone)
    return datetime.fromtimestamp(at, zone).strftime("%d/%m/%Y à %H:%M" + (":%S" if seconds else ""))
