"""The booklet: render the livret of 30 pupils x 98 items, save a full batch, logins per second over HTTP.

Each figure stands beside a baseline measured in the same run:
- rendering: the 7 compétence pages of a 30-pupil selection with every item recorded (30 x 98), through
  Flask's test client; baseline: the login page (a trivial page through the same stack);
- the class page with its overview (30 pupils, counts per compétence over the 30 x 98 records, two aggregate
  queries); baseline: the login page, as above;
- the livret of one pupil (98 items recorded) as a PDF (WeasyPrint); baseline: the same printable page as HTML;
- saving: one "Enregistrer" of every item of compétence 4 (17 items, the largest) for 30 pupils = 510 records;
  baseline: the same 510 rows inserted by one executemany in one transaction (the database's own cost);
- logins: complete HTTP logins (GET the form, POST identifiant + PIN + code) against `jeton-web serve`'s gunicorn
  (2 gthread workers, SQLite), each user once (a code is accepted once); baseline: GET /connexion/ on the
  same server (the HTTP + worker round trip without the verifier). Three rounds, each a baseline then the
  logins of its own users; the medians are reported.
- the same logins against a second server of the same installation with signed-cookie sessions and no throttling
  (what the first release did): what server-side sessions and throttling cost, rounds interleaved.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import sqlalchemy as sa

from benchmarks.runner import Figure, median, p95, timings
from tests.support import free_port

PIN = "4821"


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"benchmark sanity check failed: {what}")


def _world(tmp: Path, n_pupils: int):
    import verifier
    from booklet_web import create_app, schema
    from booklet_web.db import open_database
    from booklet_web.roster import import_roster, verifier_user_creator

    url = f"sqlite:///{tmp / 'bench.db'}"
    keys = tmp / "keys.json"
    store, _, _ = verifier.init_store(url, keys)
    database = open_database(url)
    schema.upgrade(database.engine)
    schema.load_referential_into(database.engine)
    lines = ["type;classe;nom;prenom;identifiant", "enseignant;3A;Dupont;Jean;jdupont"]
    lines += [f"eleve;3A;Nom{i:02d};Prenom{i:02d};E{i:04d}" for i in range(n_pupils)]
    import_roster(database.writer, "\n".join(lines).encode(), verifier_user_creator("bench"))
    database.dispose()
    store.close()
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "JETON_DB_URL": url, "JETON_KEYS_FILE": str(keys),
                      "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False})
    return app, url, keys


def _client(app):
    from booklet_web.tables import users

    client = app.test_client()
    with app.extensions["jeton"].db.engine.connect() as conn:
        uid = conn.execute(sa.select(users.c.id).where(users.c.login == "jdupont")).scalar_one()
    with client.session_transaction() as sess:
        sess["uid"] = uid
        sess["since"] = sess["seen"] = time.time()
    return client


def bench_render_and_save(quick: bool) -> list[Figure]:
    from booklet_web.tables import item_records, pupils

    with tempfile.TemporaryDirectory() as tmpdir:
        app, _url, _keys = _world(Path(tmpdir), 30)
        svc = app.extensions["jeton"]
        client = _client(app)
        with svc.db.engine.connect() as conn:
            ids = list(conn.execute(sa.select(pupils.c.id)).scalars())
        uid = svc.store.get_user("jdupont").id
        now = datetime.now(UTC)
        all_rows = [{"pupil_id": p, "item_id": i.id, "recorded_by": uid, "recorded_at": now}
                    for p in ids for i in svc.ref.items]
        with svc.db.writer.begin() as conn:
            conn.execute(item_records.insert(), all_rows)
        query = "&".join(f"eleve={p}" for p in ids)

        def render_all():
            for comp in svc.ref.competences:
                page = client.get(f"/livret?classe=1&{query}&competence={comp.id}")
                _check(page.status_code == 200 and "30 élèves sélectionnés" in page.text, "livret page")

        def render_login():
            _check(client.get("/connexion/").status_code == 200, "login page")

        def render_class():
            page = client.get("/classe/1")
            _check(page.status_code == 200 and page.text.count("<td>13/13") == 30,
                   "class page with its overview")

        def overview_alone():
            from booklet_web.livret import class_pupils
            from booklet_web.overview import class_overview

            with svc.db.engine.connect() as conn:
                lines = class_overview(conn, svc.ref, 1, class_pupils(conn, 1))
            _check(len(lines) == 30 and lines[0].cells[0].acquired == 13, "overview")

        def render_pdf():
            answer = client.get(f"/eleve/{ids[0]}/livret.pdf")
            _check(answer.status_code == 200 and answer.data.startswith(b"%PDF-"), "livret PDF")

        def render_printable():
            _check(client.get(f"/eleve/{ids[0]}/livret").status_code == 200, "printable livret")

        repeat = 5 if quick else 40
        render = timings(render_all, repeat, warmup=2)
        base_render = timings(render_login, repeat * 7, warmup=2)
        overview, base_overview, queries = [], [], []
        render_class(), overview_alone()  # warm: templates compiled, statements cached
        for _ in range(repeat * 2):  # interleaved: the machine is shared, its load moves
            overview += timings(render_class, 1, warmup=0)
            base_overview += timings(render_login, 1, warmup=0)
            queries += timings(overview_alone, 1, warmup=0)
        pdf = timings(render_pdf, max(3, repeat // 4), warmup=1)
        base_pdf = timings(render_printable, max(3, repeat // 4), warmup=1)

        c4 = [i.id for i in svc.ref.competence("C4").items]
        batch = [{"pupil_id": p, "item_id": i, "recorded_by": uid, "recorded_at": now} for p in ids for i in c4]

        def clear_c4():
            with svc.db.writer.begin() as conn:
                conn.execute(item_records.delete().where(item_records.c.item_id.in_(c4)))

        def save_batch():
            answer = client.post("/livret/enregistrer", data={"classe": 1, "eleve": ids, "competence": "C4",
                                                              "tout": "1"})
            _check(answer.status_code == 302, "save")

        def raw_insert():
            with svc.db.writer.begin() as conn:
                conn.execute(item_records.insert(), batch)

        saves, raws = [], []
        for _ in range(repeat):
            clear_c4()
            saves += timings(save_batch, 1, warmup=0)
            clear_c4()
            raws += timings(raw_insert, 1, warmup=0)
        svc.db.dispose()
        svc.store.close()
    return [
        Figure("render livret, 30 pupils x 98 items (7 compétence pages), p50", median(render) * 1e3, "ms",
               "login page x7, p50", median(base_render) * 7e3, goal="< 50 ms",
               note=f"p95 {p95(render) * 1e3:.1f} ms"),
        Figure("render the class page with its overview, 30 pupils x 98 items recorded, p50", median(overview) * 1e3,
               "ms", "login page, p50", median(base_overview) * 1e3, goal="< 50 ms",
               note=f"p95 {p95(overview) * 1e3:.1f} ms; the overview's two queries and its lines alone (pupils "
                    f"read again): p50 {median(queries) * 1e3:.1f} ms"),
        Figure("livret of one pupil as PDF (98 items recorded, WeasyPrint), p50", median(pdf) * 1e3, "ms",
               "the same printable livret as HTML, p50", median(base_pdf) * 1e3, goal="< 2000 ms",
               note=f"p95 {p95(pdf) * 1e3:.1f} ms; {len(pdf)} renders"),
        Figure("save a full batch (C4: 17 items x 30 pupils = 510 records), p50", median(saves) * 1e3, "ms",
               "raw executemany of the 510 rows", median(raws) * 1e3, goal="< 200 ms",
               note=f"p95 {p95(saves) * 1e3:.1f} ms"),
    ]


def _login_once(port: int, login: str, secret_b32: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/connexion/")
        resp = conn.getresponse()
        body = resp.read().decode()
        cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "identifiant": login,
                                       "passcode": PIN + pyotp.TOTP(secret_b32).now()})
        conn.request("POST", "/connexion/", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        resp = conn.getresponse()
        resp.read()
        return resp.status == 302 and resp.getheader("Location", "").endswith("/")
    finally:
        conn.close()


def _get_once(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/connexion/")
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    finally:
        conn.close()


_SERVE = """
import json, sys
from booklet_web.server import run_gunicorn
config, bind = json.loads(sys.argv[1]), sys.argv[2]
run_gunicorn(config, bind=bind, workers=2)
"""


def _serve(url: str, keys: Path, port: int, *, protected: bool) -> subprocess.Popen:
    """`jeton-web serve`'s gunicorn (2 gthread workers), with server-side sessions and throttling (``protected``,
    as shipped) or, for the comparison only, Flask's signed-cookie sessions and no throttling."""
    import json

    config = {"JETON_DB_URL": url, "JETON_KEYS_FILE": str(keys), "SESSION_COOKIE_SECURE": False,
              "JETON_SERVER_SESSIONS": protected}
    env = {**os.environ, "JETON_KEYS_FILE": str(keys), "JETON_SETTINGS": "" if protected else '{"throttle": false}'}
    return subprocess.Popen([sys.executable, "-c", _SERVE, json.dumps(config), f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def _wait(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if _get_once(port):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def bench_logins(quick: bool) -> list[Figure]:
    import verifier
    from verifier.verification import Verifier

    n = 60 if quick else 600
    rounds = 3
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        _app, url, keys = _world(tmp, 1)
        _app.extensions["jeton"].store.close()
        _app.extensions["jeton"].db.dispose()
        store = verifier.open_store(url, keys)
        v = Verifier(store)
        users = []
        past = time.time() - 90
        for i in range(n * rounds * 2):  # each user logs in once: half on each server
            login = f"prof{i:04d}"
            secret = os.urandom(20)
            store.add_user(login, f"Prof {i}")
            store.import_token(f"BN-{i:05d}", secret)
            store.assign(f"BN-{i:05d}", login)
            b32 = base64.b32encode(secret).decode()
            first = v.authenticate(login, pyotp.TOTP(b32).at(int(past)), now=past)
            v.set_pin(first.ticket, PIN, PIN, now=past)
            users.append((login, b32))
        store.close()
        ports = {"protected": free_port(), "plain": free_port()}
        servers = [_serve(url, keys, ports["protected"], protected=True),
                   _serve(url, keys, ports["plain"], protected=False)]
        try:
            for port in ports.values():
                _wait(port)
            get_rates, login_rates, plain_rates, accepted = [], [], [], 0
            with ThreadPoolExecutor(8) as pool:
                for r in range(rounds):
                    start = time.perf_counter()
                    ok = list(pool.map(lambda _: _get_once(ports["protected"]), range(n)))
                    get_rates.append(n / (time.perf_counter() - start))
                    _check(all(ok), "GET /connexion/")
                    for name, rates, batch in (("protected", login_rates, users[2 * r * n:(2 * r + 1) * n]),
                                               ("plain", plain_rates, users[(2 * r + 1) * n:(2 * r + 2) * n])):
                        start = time.perf_counter()
                        ok = list(pool.map(lambda u, port=ports[name]: _login_once(port, *u), batch))
                        rates.append(n / (time.perf_counter() - start))
                        accepted += sum(ok)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(30)
    _check(accepted == 2 * n * rounds, f"{accepted} of {2 * n * rounds} logins accepted")
    return [
        Figure("complete HTTP logins per second (GET form + POST PIN+code), gunicorn 2 workers, SQLite",
               median(login_rates), "per s", "GET /connexion/ requests per second, same server",
               median(get_rates), goal=">= 300/s",
               note=f"median of {rounds} rounds ({', '.join(f'{x:.0f}' for x in login_rates)}); server-side "
                    "sessions and throttling on, as shipped; 8 client threads on the same 2-core machine"),
        Figure("logins per second with server-side sessions and throttling, against without them",
               median(login_rates), "per s",
               "the same logins, signed-cookie sessions and no throttling (the first release's design)",
               median(plain_rates), goal="ratio >= 0.8 (no more than 20 % lost)",
               note=f"medians of {rounds} rounds each, interleaved ({', '.join(f'{x:.0f}' for x in plain_rates)} "
                    f"without); {accepted}/{2 * n * rounds} accepted"),
    ]


def run(quick: bool) -> list[Figure]:
    return bench_render_and_save(quick) + bench_logins(quick)


