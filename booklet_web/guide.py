"""The "Aide" page: the teacher's guide (docs/guide-enseignant.md) shown as a page of the application.

The guide is rendered once, at the first request, by :func:`render_markdown`: a small renderer of the few Markdown
forms the guide uses (headings, paragraphs, lists, images, bold, inline code, links). Everything is escaped first,
so no HTML of the file reaches the page; a new dependency for a fixed, project-written file was not worth it. Its
images are served from docs/img/ under ``/aide/img/``. In an installation without the docs/ folder the page says
so instead of failing.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, render_template, send_from_directory
from markupsafe import Markup, escape

bp = Blueprint("aide", __name__, url_prefix="/aide")

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDE = DOCS / "guide-enseignant.md"

_IMAGE = re.compile(r"!\[([^\]]*)\]\(img/([A-Za-z0-9._-]+\.png)\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_ITEM = re.compile(r"^(\s*)(?:[-*]|\d+\.)\s+(.*)$")


def _inline(text: str) -> str:
    """One line of Markdown as HTML; ``text`` is escaped first, so only the forms below become markup."""
    out = str(escape(text))
    out = _IMAGE.sub(lambda m: f'<img src="/aide/img/{m.group(2)}" alt="{m.group(1)}" class="fr-responsive-img">',
                     out)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)

    def link(m: re.Match) -> str:
        target = m.group(2)
        if not target.startswith(("https://", "http://", "#")):  # another file of docs/: named, not linked
            return m.group(1)
        return f'<a href="{target}">{m.group(1)}</a>'

    return _LINK.sub(link, out)


def render_markdown(source: str) -> Markup:
    """HTML of ``source``: blocks are separated by blank lines; a block of ``-``/``1.`` lines is a list (one level;
    indented lines continue the item); a block of one image is a figure."""
    html: list[str] = []
    for block in re.split(r"\n\s*\n", source.strip()):
        lines = block.splitlines()
        first = lines[0]
        heading = re.match(r"^(#{1,4})\s+(.*)$", first)
        if heading and len(lines) == 1:
            level = len(heading.group(1))
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif _ITEM.match(first):
            tag = "ol" if re.match(r"^\s*\d+\.", first) else "ul"
            items: list[str] = []
            for line in lines:
                item = _ITEM.match(line)
                if item and not item.group(1):
                    items.append(item.group(2))
                else:
                    items[-1] += " " + line.strip()
            html.append(f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{tag}>")
        elif len(lines) == 1 and _IMAGE.fullmatch(first.strip()):
            alt = _IMAGE.fullmatch(first.strip()).group(1)
            html.append(f"<figure class=\"fr-content-media\">{_inline(first.strip())}"
                        f"<figcaption class=\"fr-content-media__caption\">{escape(alt)}</figcaption></figure>")
        else:
            html.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return Markup("\n".join(html))  # noqa: S704 - every piece of the file went through escape() first


@cache
def guide_html() -> Markup | None:
    """The guide as HTML, rendered once per process; None when docs/ is not installed."""
    if not GUIDE.is_file():
        return None
    return render_markdown(GUIDE.read_text(encoding="utf-8"))


@bp.get("/")
def guide():
    return render_template("aide.html", guide=guide_html())


@bp.get("/img/<name>")
def image(name: str):
    if not re.fullmatch(r"[A-Za-z0-9._-]+\.png", name) or name.startswith("."):
        abort(404)
    return send_from_directory(DOCS / "img", name, max_age=3600)
