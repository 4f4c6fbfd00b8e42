"""The livret as a PDF file (issue 16): the printable page laid out by WeasyPrint, downloaded under a safe name,
never kept by a cache, and rendered without fetching anything but the application's own static files."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pypdf import PdfReader

from booklet_web.livret_pdf import StaticOnlyFetcher, filename, html_to_pdf
from tests.web.test_livret import save
from tests.web.test_overview import administer


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_holds_the_pupils_name_the_competences_and_the_acquired_items(world, client):
    world.log_in(client, "jdupont")
    lea = world.pupil_ids("3A")[0]
    assert save(client, world, "3A", [lea], "C3", items=["C3.2", "C3.7"]).status_code == 302
    head = world.app.test_client()
    world.log_in(head, "adurand")
    assert administer(head, world, lea, "C3", "administrer").status_code == 302
    livret = client.get(f"/livret?classe={world.class_id('3A')}&eleve={lea}&competence=C3")
    assert f'href="/eleve/{lea}/livret.pdf">Télécharger le PDF</a>' in livret.text
    assert "Télécharger le PDF" in client.get(f"/eleve/{lea}/livret").text

    answer = client.get(f"/eleve/{lea}/livret.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf" and answer.data.startswith(b"%PDF-")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="livret-BERNARD-Lea.pdf"'
    assert answer.headers["Cache-Control"] == "no-store"
    text = " ".join(pdf_text(answer.data).split())
    assert "Bernard Léa" in text and "classe 3A" in text and "identifiant E3A01" in text
    ref = world.app.extensions["jeton"].ref
    for comp in ref.competences:
        assert f"Compétence {comp.number} —" in text
    assert "La compétence 3 est validée — par" in text
    for item_id in ("C3.2", "C3.7"):
        item = ref.item(item_id)
        assert f"{item_id} {' '.join(item.text.split()[:4])}" in text
    assert text.count("★") == 2  # the two acquired items, and no other
    # the printable page's screen-only parts stay out of it, as when printing
    for screen_only in ("Déconnexion", "Imprimer", "Télécharger le PDF", "Mes sessions"):
        assert screen_only not in text


class _Counting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


def test_rendering_fetches_no_external_url_only_the_apps_static_files(world, tmp_path):
    """A page naming a stylesheet and an image on another server, and a local file: none is read; the app's own
    stylesheet is."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    other = f"http://127.0.0.1:{httpd.server_address[1]}"
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: blue }")
    html = (f'<html><head><link rel="stylesheet" href="{other}/evil.css">'
            f'<link rel="stylesheet" href="file://{secret}">'
            '<link rel="stylesheet" href="/static/../../pyproject.toml">'
            '<link rel="stylesheet" href="/static/%2e%2e/%2e%2e/pyproject.toml">'
            '<link rel="stylesheet" href="/static/print.css"></head>'
            f'<body><p>Bernard Léa</p><img src="{other}/pixel.png" alt=""></body></html>')
    app = world.app
    fetcher = StaticOnlyFetcher("http://localhost/", app.static_url_path, app.static_folder)
    try:
        with app.app_context():
            pdf = html_to_pdf(html, "http://localhost/", fetcher)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    assert _Counting.hits == []
    assert "Bernard Léa" in pdf_text(pdf)
    assert sorted(fetcher.refused) == sorted([f"{other}/evil.css", f"file://{secret}", f"{other}/pixel.png",
                                              "http://localhost/pyproject.toml",
                                              "http://localhost/static/%2e%2e/%2e%2e/pyproject.toml"])


@pytest.mark.parametrize("sheet", ["/static/jeton.css", "/static/dsfr/dsfr.min.css"])
def test_the_screens_look_is_not_read_for_the_pdf(world, sheet):
    """Either look's screen stylesheet is skipped (the printable page has booklet.css and print.css): the PDF is the
    same whichever look the site has, and WeasyPrint does not lay out the screen's rules."""
    app = world.app
    fetcher = StaticOnlyFetcher("http://localhost/", app.static_url_path, app.static_folder)
    with pytest.raises(ValueError, match="inutile à l'impression"):
        fetcher.fetch(f"http://localhost{sheet}")
    assert fetcher.refused == []  # not a refusal: a choice
    fetcher.fetch("http://localhost/static/print.css")  # the print stylesheet is read
    assert fetcher.refused == []


def test_the_file_name_is_safe_whatever_the_name():
    assert filename("Bernard", "Léa") == "livret-BERNARD-Lea.pdf"
    assert filename("D'Ornano-Lefèvre", "Jean Marc") == "livret-D-ORNANO-LEFEVRE-Jean-Marc.pdf"
    assert filename('"; x=../../etc', "Zoé\r\nSet-Cookie: a") == "livret-X-ETC-Zoe-Set-Cookie-a.pdf"
    assert filename("王", "小明") == "livret.pdf"
