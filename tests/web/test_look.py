"""The look of the booklet (issue 16): Jeton's own look by default; the vendored DSFR, served from the application
itself, with the State's brand and Marianne font only on a State service's site; the "Aide" page from the teacher's
guide, and the class page's check boxes that choose pupils without JavaScript."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile

import pytest

from booklet_web import guide, vendor_dsfr

STYLESHEETS = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def test_the_dsfr_is_vendored_at_its_pinned_version():
    version = vendor_dsfr.TARGET / vendor_dsfr.STAMP
    assert version.is_file(), "the DSFR is not vendored: run `make dsfr` (a prerequisite of `make test`)"
    assert version.read_text().strip() == vendor_dsfr.VERSION
    css = (vendor_dsfr.TARGET / "dsfr.min.css").read_text()
    assert "@font-face" not in css and ".fr-btn" in css
    assert "font-family:Marianne" in (vendor_dsfr.TARGET / "fonts.css").read_text()
    for icon in set(re.findall(r"url\((icons/[^)\"']+)\)", css)):
        assert (vendor_dsfr.TARGET / icon).is_file(), icon


def test_a_tarball_that_is_not_the_pinned_one_is_refused_and_removed(tmp_path):
    fake = tmp_path / f"gouvfr-dsfr-{vendor_dsfr.VERSION}.tgz"
    with tarfile.open(fake, "w:gz") as tar:
        body = b"body{color:red}"
        member = tarfile.TarInfo("package/dist/dsfr.min.css")
        member.size = len(body)
        tar.addfile(member, io.BytesIO(body))
    with pytest.raises(SystemExit, match="differs from the pin"):
        vendor_dsfr.fetch(tmp_path)
    assert not fake.exists()
    # the pin is written as npm writes dist.integrity: "sha512-" and the digest in base64
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert vendor_dsfr.integrity_of(empty) == "sha512-" + base64.b64encode(hashlib.sha512(b"").digest()).decode()


def test_the_font_rules_are_split_from_the_stylesheet():
    css = "a{b:c}@font-face{font-family:Marianne;src:url(fonts/M.woff2)}d{e:f}"
    assert vendor_dsfr.split_fonts(css) == ("a{b:c}d{e:f}", "@font-face{font-family:Marianne;src:url(fonts/M.woff2)}\n")


def test_every_page_loads_its_look_from_the_application_under_the_strict_csp(world, client):
    page = client.get("/connexion/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    sheets = STYLESHEETS.findall(page.text)
    assert sheets[:2] == ["/static/jeton.css", "/static/booklet.css"]
    assert all(s.startswith("/static/") for s in sheets)
    with client.get(sheets[0]) as css:
        assert css.status_code == 200 and ".fr-btn" in css.text


def test_not_a_state_service_by_default_neither_the_dsfr_nor_marianne_nor_the_brand_block(world, client):
    """The DSFR's terms of use reserve it to the State's administrations: a site that does not say it is one gets
    Jeton's own look, never the State's stylesheet, font or brand block."""
    page = client.get("/connexion/")
    assert "/static/dsfr/" not in page.text
    assert "fr-logo" not in page.text and "République" not in page.text
    assert 'class="sans-marque"' in page.text
    assert '<p class="fr-header__service-title titre">Livret personnel de compétences</p>' in page.text


def test_a_state_service_gets_the_dsfr_marianne_and_the_brand_block(world, client):
    world.app.config.update(JETON_STATE_SERVICE=True, JETON_STATE_LINES="Ministère|de l'Éducation|nationale")
    page = client.get("/connexion/")
    sheets = STYLESHEETS.findall(page.text)
    assert sheets[:3] == ["/static/dsfr/dsfr.min.css", "/static/dsfr/fonts.css", "/static/booklet.css"]
    assert "/static/jeton.css" not in page.text
    assert '<p class="fr-logo">Ministère<br>de l&#39;Éducation<br>nationale</p>' in page.text
    assert 'class="marque-etat"' in page.text
    with client.get("/static/dsfr/dsfr.min.css") as css:
        assert css.status_code == 200 and ".fr-header" in css.text
    with client.get("/static/dsfr/fonts.css") as fonts:
        assert "Marianne" in fonts.text


def test_aide_opens_the_teachers_guide_with_its_pictures_for_everyone(world, client):
    for who in (None, "jdupont"):
        if who:
            world.log_in(client, who)
        home = client.get("/connexion/" if who is None else "/")
        assert '<a class="fr-btn fr-btn--tertiary-no-outline" href="/aide/">Aide</a>' in home.text
        page = client.get("/aide/")
        assert page.status_code == 200
        assert "<h1>Guide de l&#39;enseignant : la clé OTP et le Livret Personnel de Compétences</h1>" in page.text
        assert '<img src="/aide/img/01-authentification.png"' in page.text
    with client.get("/aide/img/01-authentification.png") as image:
        assert image.status_code == 200 and image.mimetype == "image/png"
    for bad in ("/aide/img/..%2Fguide-enseignant.md", "/aide/img/nope.png", "/aide/img/.x.png", "/aide/img/a.md"):
        assert client.get(bad).status_code == 404


def test_the_guide_renderer_escapes_everything_but_its_few_forms():
    html = guide.render_markdown(
        "# Titre <b>\n\nUn **gras** et `code` <script>alert(1)</script>\n"
        "et [un lien](https://exemple.fr) et [un fichier](it-staff.md).\n\n"
        "- un\n- deux\n  suite\n\n1. premier\n\n![Une image](img/01-x.png)\n\n![x\"onerror=\"y](img/a.png)")
    assert "<h1>Titre &lt;b&gt;</h1>" in html
    assert "<strong>gras</strong> et <code>code</code> &lt;script&gt;" in html
    assert '<a href="https://exemple.fr">un lien</a> et un fichier.' in html
    assert "<ul><li>un</li><li>deux suite</li></ul>" in html and "<ol><li>premier</li></ol>" in html
    assert '<img src="/aide/img/01-x.png" alt="Une image"' in html
    assert "onerror=\"" not in html


def test_without_javascript_the_class_page_chooses_pupils_by_check_boxes(world, client):
    world.log_in(client, "jdupont")
    a = world.class_id("3A")
    page = client.get(f"/classe/{a}")
    boxes = re.findall(r'<input type="checkbox" name="eleve" value="(\d+)"', page.text)
    assert sorted(map(int, boxes)) == sorted(world.pupil_ids("3A"))
    # without the script, its stylesheet shows the check boxes alone (none disabled), never the empty dual list
    assert '<noscript><link rel="stylesheet" href="/static/sans-js.css"></noscript>' in page.text
    assert "disabled" not in page.text
    with client.get("/static/sans-js.css") as css:
        assert ".choix-souris { display: none !important; }" in css.text
    assert '<fieldset class="choix-tactile"' in page.text
    assert "<legend>2) Cochez un ou plusieurs élèves</legend>" in page.text
    chosen = "&".join(f"eleve={p}" for p in boxes[:2])
    livret = client.get(f"/livret?classe={a}&{chosen}")
    assert livret.status_code == 200 and "2 élèves sélectionnés" in livret.text
