"""The printable livret as a PDF file: the HTML of the printable page, laid out by WeasyPrint with its print stylesheet.

WeasyPrint would fetch every URL the page names (stylesheets, images) over the network or from the disk. Here it
gets only the application's own static files, read from the package's static folder: nothing else is fetched,
neither another host nor a ``file:`` path, so a name or a future template can never make the server reach out.
WeasyPrint needs Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0), which the Makefile's ``venv`` target installs.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

PAGE_ROOT = "http://livret.invalid"
"""The origin the page is laid out under: never resolved (``.invalid``), and independent of the request's Host."""


#: static files the PDF never reads (under the static URL path): either look's screen stylesheet (the printable
#: page is laid out by booklet.css and print.css alone, the same PDF whichever look the site has)
SCREEN_ONLY = ("dsfr/", "jeton.css")


class StaticOnlyFetcher(URLFetcher):
    """Serves WeasyPrint the files under ``static_folder`` named by ``<root><static_url_path>/...`` and refuses any
    other URL (another host or port, another path, ``file:``, ``data:``): WeasyPrint then skips that resource."""

    def __init__(self, root: str, static_url_path: str, static_folder: str | Path) -> None:
        super().__init__(allowed_protocols=())
        self._prefix = root.rstrip("/") + "/" + static_url_path.strip("/") + "/"
        self._screen_only = tuple(self._prefix + name for name in SCREEN_ONLY)
        self._folder = str(static_folder)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(self._screen_only):
            # the screen's look (the DSFR's 2 MB, or jeton.css) is left to the browser: the printable page does not
            # need it, and WeasyPrint would parse and cascade it again for each PDF
            raise ValueError("feuille de style d'écran, inutile à l'impression")
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            raise ValueError("seuls les fichiers statiques de l'application sont lus")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    def _static_path(self, url: str) -> Path | None:
        if not url.startswith(self._prefix):
            return None
        parts = urlsplit(url)
        name = unquote(parts.path[len(urlsplit(self._prefix).path):])
        found = safe_join(self._folder, name)  # None when the name climbs out of the folder
        if found is None or not Path(found).is_file():
            return None
        return Path(found)


def html_to_pdf(html: str, root: str, fetcher: StaticOnlyFetcher | None = None) -> bytes:
    """The PDF of ``html`` (a page of this application served under ``root``, e.g. ``http://host/``), laid out
    for print; only this application's static files are read."""
    if fetcher is None:
        app = current_app
        fetcher = StaticOnlyFetcher(root, app.static_url_path, app.static_folder)
    return HTML(string=html, base_url=root, url_fetcher=fetcher, media_type="print").write_pdf()


def filename(last_name: str, first_name: str) -> str:
    """``livret-NOM-Prenom.pdf`` in ASCII letters, digits and dashes (safe in a Content-Disposition header); a part
    with no such character (a name in another script) is left out."""
    parts = ["livret", _ascii(last_name).upper(), _ascii(first_name)]
    return "-".join(part for part in parts if part) + ".pdf"


def _ascii(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
