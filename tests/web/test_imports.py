"""Importing tokens from the console ("Importer des clés"): upload, preview (nothing written), confirm, summary;
hostile files refused in French with nothing written; a preview confirmed once, by the session that made it."""

from __future__ import annotations

import base64
import html
import io
import secrets

import pskc
import pytest
import sqlalchemy as sa

from tests.web.support import SECRETS, csrf_token, sealed_preview
from verifier.interchange import TOTP_URI
from verifier.schema import audit, tokens

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0">&lol3;</KeyContainer>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE k [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0"><KeyPackage><DeviceInfo>
<SerialNo>&xxe;</SerialNo></DeviceInfo></KeyPackage></KeyContainer>"""


def pskc_file(keys, *, password=None) -> bytes:
    container = pskc.PSKC()
    for serial, secret in keys:
        container.add_key(serial=serial, secret=secret, algorithm=TOTP_URI, algorithm_suite="HMAC-SHA1",
                          response_length=6, time_interval=30, model="Jeton Pico")
    if password is not None:
        container.encryption.setup_pbkdf2(password, iterations=2000)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


def preview(client, data: bytes, name="lot.csv", password="", psk="", token=None):
    token = token or csrf_token(client.get("/admin/import-cles").text)
    return client.post("/admin/import-cles", data={"csrf_token": token, "fichier": (io.BytesIO(data), name),
                                                   "mot_de_passe": password, "cle": psk},
                       content_type="multipart/form-data")


def confirm(client, page_text: str, sealed: str | None = None):
    return client.post("/admin/import-cles/confirmer",
                       data={"csrf_token": csrf_token(page_text), "apercu": sealed or sealed_preview(page_text)})


def flat(page: str) -> str:
    """The page's text as one line, entities unescaped (what the administrator reads, tags aside)."""
    return " ".join(html.unescape(page).split())


def written(world):
    """What an import could have written: the tokens, and the audit rows of imported tokens and of imports done."""
    with world.store.engine.connect() as conn:
        return (sorted(conn.execute(sa.select(tokens.c.serial, tokens.c.state)).all()),
                conn.execute(sa.select(sa.func.count()).select_from(audit)
                             .where(audit.c.action.in_(("token.import", "token.import_file")),
                                    audit.c.outcome != "refused")).scalar())


def test_import_tokens_preview_then_confirm_then_summary(world, no_leaks):
    client = world.app.test_client()
    world.log_in(client, "adurand")
    new = no_leaks.secret(secrets.token_bytes(20))
    data = (f"serial,key,type,digits,period\nJT-0100,{new.hex()},totp,6,30\n"
            f"JT-0001,{SECRETS['jdupont'].hex()},totp,6,30\nJT-0101,{secrets.token_hex(20)},totp,7,30\n").encode()
    before = written(world)
    page = preview(client, data)
    assert page.status_code == 200
    text = flat(page.text)
    assert "Aperçu du fichier lot.csv" in text
    assert "Rien n'a encore été importé. 1 à ajouter, 1 ignorée(s) (déjà présentes), 1 refusée(s)." in text
    assert "<td>JT-0100</td><td>ligne 2</td><td></td> <td>sha1</td> <td>à ajouter</td>" in text
    assert "<td>JT-0001</td><td>ligne 3</td><td></td> <td>sha1</td> <td>déjà présente (même clé, affectée)</td>" in text
    assert "<td>refusée : une clé affiche 6 ou 8 chiffres, pas 7</td>" in text
    assert ">Importer 1 clé</button>" in text
    assert written(world) == before  # nothing written yet
    assert new.hex() not in page.text and base64.b64encode(new).decode() not in page.text

    done = confirm(client, page.text)
    assert done.status_code == 200
    assert ("Import terminé (lot.csv) : 1 ajoutée(s), 1 ignorée(s) (déjà présentes), 1 refusée(s)."
            in flat(done.text))
    assert world.store.get_token("JT-0100").state == "ready"
    assert world.store.find_token("JT-0101") is None
    row = world.store.audit(action="token.import_file")[0]
    assert (row.actor, row.detail) == ("adurand", "1 ajoutée(s), 1 ignorée(s) (déjà présentes), 1 refusée(s) ; "
                                                  "fichier=console:lot.csv")
    # the journal says it in words
    assert "import de clés" in client.get("/admin/journal-connexions").text


def test_a_preview_is_confirmed_once(world, client):
    world.log_in(client, "adurand")
    page = preview(client, f"JT-0200,{secrets.token_hex(20)},totp\n".encode())
    assert confirm(client, page.text).status_code == 200
    before = written(world)
    again = confirm(client, page.text)
    assert again.status_code == 400
    assert ("Cet aperçu n'est plus valable (déjà importé, trop ancien ou ouvert dans une autre session)"
            in flat(again.text))
    assert written(world) == before


def test_another_session_cannot_confirm_my_preview(world, client):
    world.log_in(client, "adurand")
    page = preview(client, f"JT-0300,{secrets.token_hex(20)},totp\n".encode())
    other = world.app.test_client()  # the same administrator in another browser, or someone who copied the page
    world.log_in(other, "adurand")
    before = written(world)
    stolen = other.post("/admin/import-cles/confirmer",
                        data={"csrf_token": csrf_token(other.get("/admin/import-cles").text),
                              "apercu": sealed_preview(page.text)})
    assert stolen.status_code == 400 and "Cet aperçu n'est plus valable" in flat(stolen.text)
    assert written(world) == before
    refusal = world.store.audit(action="token.import_file")[0]  # the attempt is in the journal
    assert (refusal.outcome, refusal.actor) == ("refused", "adurand")
    assert confirm(client, page.text).status_code == 200  # still mine to confirm
    assert world.store.get_token("JT-0300").state == "ready"


def test_a_tampered_or_old_preview_is_refused(world, client):
    world.log_in(client, "adurand")
    page = preview(client, f"JT-0400,{secrets.token_hex(20)},totp\n".encode())
    sealed = sealed_preview(page.text)
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    before = written(world)
    assert confirm(client, page.text, flipped).status_code == 400
    page = preview(client, f"JT-0400,{secrets.token_hex(20)},totp\n".encode())
    world.clock.t += 31 * 60
    assert confirm(client, page.text).status_code == 400
    assert written(world) == before


def test_cancelling_forgets_the_preview(world, client):
    world.log_in(client, "adurand")
    page = preview(client, f"JT-0500,{secrets.token_hex(20)},totp\n".encode())
    assert ">Annuler</a>" in page.text
    client.get("/admin/import-cles")
    assert confirm(client, page.text).status_code == 400
    assert world.store.find_token("JT-0500") is None


def test_an_encrypted_pskc_file_needs_its_password(world, client, no_leaks):
    world.log_in(client, "adurand")
    secret = no_leaks.secret(secrets.token_bytes(20))
    data = pskc_file([("JT-0600", secret), ("JT-0601", secrets.token_bytes(20))],
                     password=no_leaks.value("mot-de-passe-du-lot"))
    before = written(world)
    page = preview(client, data, "lot.pskcxml")
    assert page.status_code == 400
    assert ("Le fichier lot.pskcxml est chiffré : indiquez son mot de passe ou sa clé pré-partagée, puis "
            "déposez-le à nouveau.") in flat(page.text)
    page = preview(client, data, "lot.pskcxml", password=no_leaks.value("pas-le-bon"))
    assert page.status_code == 400
    assert ("Fichier refusé, rien n'a été importé : lot.pskcxml : impossible de déchiffrer le fichier PSKC (mot de "
            "passe ou clé erronés, ou MAC invalide : DecryptionError)") in flat(page.text)
    page = preview(client, data, "lot.pskcxml", psk="zz")
    assert page.status_code == 400 and "La clé pré-partagée s'écrit en hexadécimal" in flat(page.text)
    assert written(world) == before
    page = preview(client, data, "lot.pskcxml", password="mot-de-passe-du-lot")
    assert page.status_code == 200
    assert "<td>JT-0600</td><td>clé JT-0600</td><td>Jeton Pico</td> <td>sha1</td> <td>à ajouter</td>" in flat(page.text)
    assert "mot-de-passe-du-lot" not in page.text
    done = confirm(client, page.text)
    assert "Import terminé (lot.pskcxml) : 2 ajoutée(s), 0 ignorée(s) (déjà présentes), 0 refusée(s)." in done.text
    assert world.store.token_secret("JT-0600") == secret


@pytest.mark.parametrize(("name", "data", "message"), [
    ("rire.xml", BILLION_LAUGHS, "lot : le XML déclare une DTD ou des entités : refusé"),
    ("entite.xml", EXTERNAL_ENTITY, "le XML déclare une DTD ou des entités : refusé"),
    ("casse.csv", b'JT-1,"3132333435363738393031323334353637383930,totp\n',
     "fichier CSV illisible (guillemets mal fermés"),
    ("latin.csv", "JT-É,zz,totp\n".encode("latin-1"), "fichier CSV illisible (UnicodeDecodeError)"),
    ("vide.csv", b"# rien\n", "le fichier CSV ne contient aucune clé"),
    ("faux.xml", b"<KeyContainer><Key/>", "fichier PSKC illisible"),
])
def test_hostile_files_are_refused_in_french_and_write_nothing(world, client, name, data, message):
    world.log_in(client, "adurand")
    before = written(world)
    page = preview(client, data, name)
    assert page.status_code == 400
    text = flat(page.text)
    assert "Fichier refusé, rien n'a été importé" in text
    assert message.replace("lot :", f"{name} :") in text
    assert 'name="apercu"' not in page.text and "root:" not in page.text
    assert written(world) == before


def test_a_huge_file_is_refused_before_it_is_read(world, client):
    world.log_in(client, "adurand")
    before = written(world)
    token = csrf_token(client.get("/admin/import-cles").text)
    body = (f'--zz\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--zz\r\nContent-Disposition: form-data; name="fichier"; filename="grand.csv"\r\n'
            "Content-Type: text/csv\r\n\r\nJT-1,").encode() + b"0" * (3 * 1024 * 1024) + b",totp\r\n--zz--\r\n"
    page = client.post("/admin/import-cles", data=body, content_type="multipart/form-data; boundary=zz")
    assert page.status_code == 413 and "Fichier trop volumineux (2 Mo au plus)." in page.text
    assert written(world) == before


def test_import_pages_need_the_csrf_token(world, client):
    world.log_in(client, "adurand")
    page = preview(client, f"JT-0700,{secrets.token_hex(20)},totp\n".encode())
    before = written(world)
    for token in (None, "forged"):
        data = {"apercu": sealed_preview(page.text)} | ({} if token is None else {"csrf_token": token})
        answer = client.post("/admin/import-cles/confirmer", data=data)
        assert answer.status_code == 400 and "formulaire a expiré" in flat(answer.text)
        answer = client.post("/admin/import/confirmer", data=data)
        assert answer.status_code == 400 and "formulaire a expiré" in flat(answer.text)
    answer = preview(client, f"JT-0701,{secrets.token_hex(20)},totp\n".encode(), token="forged")
    assert answer.status_code == 400 and 'name="apercu"' not in answer.text
    assert written(world) == before
    assert confirm(client, page.text).status_code == 200  # the CSRF failures did not use the preview up


@pytest.mark.parametrize("login", ["jdupont", "mmartin"])
def test_teachers_cannot_preview_or_confirm(world, client, login):
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    page = preview(admin, f"JT-0800,{secrets.token_hex(20)},totp\n".encode())
    world.log_in(client, login)
    token = csrf_token(client.get("/").text)
    before = written(world)
    answer = client.post("/admin/import-cles/confirmer",
                         data={"csrf_token": token, "apercu": sealed_preview(page.text)})
    assert answer.status_code == 403
    assert preview(client, b"JT-0801,00,totp\n", token=token).status_code == 403
    assert written(world) == before


def test_the_same_import_on_sqlite_and_postgresql(any_world):
    world = any_world
    client = world.app.test_client()
    world.log_in(client, "adurand")
    data = pskc_file([("JT-0900", secrets.token_bytes(20)), ("JT-0001", SECRETS["jdupont"])])
    page = preview(client, data, "lot.xml")
    assert "Rien n'a encore été importé. 1 à ajouter, 1 ignorée(s) (déjà présentes), 0 refusée(s)." in flat(page.text)
    done = confirm(client, page.text)
    assert "Import terminé (lot.xml) : 1 ajoutée(s), 1 ignorée(s) (déjà présentes), 0 refusée(s)." in flat(done.text)
    assert world.store.get_token("JT-0900").model == "Jeton Pico"
