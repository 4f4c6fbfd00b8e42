"""Nobody can lock everybody (issue 12, item 2): throttling per source and per login in front of the verifier, a
timed lockout, and answers that say nothing about an account. On SQLite and PostgreSQL, through the web login.

Every attack here runs on the application's clock, which the test moves as an attacker's requests would."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.web.support import PIN, code_for, csrf_token
from verifier.schema import audit

LOGINS = ("jdupont", "mmartin", "adurand")


def client_at(world, address: str):
    client = world.app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client, login: str, passcode: str):
    page = client.get("/connexion/")
    return client.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": login,
                                            "passcode": passcode})


def teacher_logs_in(world, login: str, address: str) -> None:
    """The real teacher, from her own address: waits when told to, gives the next code when asked."""
    client = client_at(world, address)
    for _ in range(20):
        page = attempt(client, login, PIN + code_for(login, world.clock.t))
        if page.status_code == 429:
            world.clock.t += int(page.headers["Retry-After"])
            continue
        if page.status_code == 302 and page.headers["Location"].endswith("/connexion/code-suivant"):
            screen = client.get("/connexion/code-suivant")
            world.clock.step()
            page = client.post("/connexion/code-suivant", data={"csrf_token": csrf_token(screen.text),
                                                                 "code": code_for(login, world.clock.t)})
        assert page.status_code == 302 and page.headers["Location"].endswith("/"), page.status_code
        assert client.get("/").status_code == 200
        world.clock.step()  # the next teacher's code must not be a replay of nothing in particular
        return
    raise AssertionError(f"{login} never got in")


def auth_rows(world, login: str) -> Counter:
    with world.store.engine.connect() as conn:
        return Counter(r.outcome for r in conn.execute(
            audit.select().where(audit.c.action == "auth", audit.c.login == login)))


def test_one_address_against_every_login_for_a_minute_gets_429s_and_locks_nobody(any_world):
    world = any_world
    for login in LOGINS:
        world.activate(login)
    attacker = client_at(world, "203.0.113.9")
    statuses, start, i = Counter(), world.clock.t, 0
    while world.clock.t < start + 60:  # four tries a second, round the three logins, for a minute
        page = attempt(attacker, LOGINS[i % 3], PIN + "000000")
        statuses[page.status_code] += 1
        if page.status_code == 429:
            assert int(page.headers["Retry-After"]) >= 1 and "Trop de tentatives" in page.text
        i += 1
        world.clock.t += 0.25
    assert statuses[429] > 200 and statuses[401] < 30, statuses
    for login in LOGINS:
        token = world.store.list_tokens(login=login)[0]
        assert token.state == "active" and token.fail_count < 10
        rows = auth_rows(world, login)
        # failures from a throttled source count for nothing: the token counted exactly the verified rejects
        assert rows["THROTTLED"] > 0 and token.fail_count == rows["REJECT"]
    for n, login in enumerate(LOGINS):
        teacher_logs_in(world, login, f"198.51.100.{n + 1}")


def test_twenty_addresses_against_one_login_never_pass_the_lockout_and_it_recovers(any_world):
    world = any_world
    world.activate("jdupont")
    crowd = [client_at(world, f"203.0.113.{n}") for n in range(1, 21)]
    statuses, highest = Counter(), 0
    for _ in range(15):  # 300 tries, one every second, from 20 addresses
        for client in crowd:
            statuses[attempt(client, "jdupont", PIN + "000000").status_code] += 1
            highest = max(highest, world.store.get_token("JT-0001").fail_count)
            world.clock.t += 1
    assert highest == 10 and statuses[429] > 250, statuses
    token = world.store.get_token("JT-0001")
    assert token.state == "locked"
    world.clock.t = token.locked_at + 15 * 60  # no administrator: the timer alone
    teacher_logs_in(world, "jdupont", "198.51.100.7")
    assert world.store.get_token("JT-0001").state == "active"


def test_locked_unknown_and_wrong_answer_alike(world, client):
    """Same status and page for a wrong passcode, an unknown login, a locked token and a disabled one."""
    world.activate("jdupont")
    world.activate("mmartin")
    world.store.disable("JT-0002", actor="test")
    world.activate("adurand")
    world.store.lock("JT-0003", actor="test")

    def answer(login, passcode):
        page = attempt(client_at(world, f"192.0.2.{len(login)}"), login, passcode)
        return page.status_code, page.text.replace(csrf_token(page.text), "T").replace(login, "L")

    wrong = answer("jdupont", PIN + "000000")
    assert wrong[0] == 401
    assert answer("inconnu", PIN + code_for("jdupont", world.clock.t)) == wrong
    # the right passcode of a disabled or a locked token: the same answer as a wrong one
    assert answer("mmartin", PIN + code_for("mmartin", world.clock.t)) == wrong
    assert answer("adurand", PIN + code_for("adurand", world.clock.t)) == wrong


@pytest.mark.parametrize("addresses", [1, 3])
def test_a_throttled_unknown_login_is_throttled_like_a_known_one(world, addresses):
    """The throttle counts logins that do not exist too, so its 429 says nothing about which ones do."""
    world.activate("jdupont")
    seen = {}
    for login in ("jdupont", "personne"):
        statuses = [attempt(client_at(world, f"192.0.2.{n % addresses}"), login, PIN + "000000").status_code
                    for n in range(8)]
        seen[login] = statuses
        world.clock.t += 3600  # forget
    assert seen["jdupont"] == seen["personne"] and 429 in seen["jdupont"]
