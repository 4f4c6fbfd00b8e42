"""Flask sessions kept as rows of the shared database (``verifier.sessions``), not in the cookie.

The cookie carries only a random id; what the session holds (the logged-in user, the CSRF token, a ticket between
the first-login steps, flashed messages) is in the row, sealed under a key derived from the id. A visitor who only
reads the login page has an anonymous id and no row (its CSRF token is derived from the id): the row is written
when the session first holds something else. Logging in and
choosing a new PIN rotate the id (``session.rotate()``); logging out ends it (``session.end()``). A session that
an administrator ended, that idled too long, or that outlived its lifetime is gone for every process at once.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from verifier.sessions import TOUCH_EVERY, Loaded, Sessions, new_id, well_formed

#: the prefix of an anonymous session's id: a visitor who has not logged in yet has no row (reading the login
#: page writes nothing); its CSRF token is derived from the id, and a row is made once it holds anything else
ANONYMOUS = "a-"
_CSRF = "csrf_token"  # Flask-WTF's session key


def anonymous_csrf(secret_key: bytes | str, raw: str) -> str:
    """The CSRF token of an anonymous session: derived from its id under the web signing key."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, b"jeton-anonymous-csrf\x00" + raw.encode(), hashlib.sha256).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """The session of one request: a dict, plus what the interface must do with its row at the end."""

    def __init__(self, data: dict | None = None, raw_id: str | None = None, loaded: Loaded | None = None,
                 anonymous_id: str | None = None) -> None:
        def on_update(_self) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.raw_id = raw_id
        self.loaded = loaded
        #: the id of a session without a row (nobody logged in, nothing kept but its derived CSRF token)
        self.anonymous_id = anonymous_id
        self.csrf_used = False
        self.modified = False
        self.rotated = False
        self.ended = False
        #: the browser presented a session that no longer exists (expired, ended by an administrator, logged out)
        self.expired = False

    def __getitem__(self, key):
        if key == _CSRF:
            self.csrf_used = True  # a page carries the token: the browser must get the cookie it derives from
        return super().__getitem__(key)

    @property
    def new(self) -> bool:  # Flask's SessionMixin reads this
        return self.raw_id is None

    def rotate(self) -> None:
        """Give this session a new id at the end of the request (after login, after the new PIN)."""
        self.rotated = True
        self.modified = True

    def end(self) -> None:
        """End this session: its row is deleted and the browser's cookie removed."""
        self.clear()
        self.ended = True


class ServerSessionInterface(SessionInterface):
    """Flask's session interface over :class:`verifier.sessions.Sessions`, on the app's clock."""

    def __init__(self, sessions: Sessions, clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def _anonymous(self, app: Flask, raw: str | None = None) -> ServerSession:
        raw = raw or ANONYMOUS + new_id()
        return ServerSession({_CSRF: anonymous_csrf(app.secret_key, raw)}, anonymous_id=raw)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        raw = request.cookies.get(self.get_cookie_name(app))
        if raw is not None and raw.startswith(ANONYMOUS) and well_formed(raw):
            return self._anonymous(app, raw)  # no row to read
        loaded = self.sessions.load(raw, self.clock()) if well_formed(raw) else None
        if loaded is None:
            session = self._anonymous(app)
            session.expired = raw is not None
            return session
        return ServerSession(loaded.data, raw, loaded)

    def _set_cookie(self, app: Flask, response: Response, raw: str) -> None:
        response.set_cookie(self.get_cookie_name(app), raw, httponly=True, secure=self.get_cookie_secure(app),
                            samesite=self.get_cookie_samesite(app), domain=self.get_cookie_domain(app),
                            path=self.get_cookie_path(app))
        response.vary.add("Cookie")

    def _drop_cookie(self, app: Flask, response: Response) -> None:
        response.delete_cookie(self.get_cookie_name(app), secure=self.get_cookie_secure(app), httponly=True,
                               samesite=self.get_cookie_samesite(app), domain=self.get_cookie_domain(app),
                               path=self.get_cookie_path(app))

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        from flask import request

        now = self.clock()
        if session.ended:
            if session.raw_id is not None:
                self.sessions.delete(session.raw_id)
            self._drop_cookie(app, response)
            return
        if session.raw_id is None:  # anonymous: a row only once it holds more than its derived CSRF token
            data = dict(session)
            if set(data) - {_CSRF}:
                uid = data.get("uid") if isinstance(data.get("uid"), int) else None
                raw = self.sessions.create(data, user_id=uid, now=now, address=request.remote_addr,
                                           agent=request.headers.get("User-Agent"))
                self._set_cookie(app, response, raw)
            elif session.csrf_used and request.cookies.get(self.get_cookie_name(app)) != session.anonymous_id:
                self._set_cookie(app, response, session.anonymous_id)
            elif session.expired:
                self._drop_cookie(app, response)
            return
        data = dict(session)
        uid = data.get("uid") if isinstance(data.get("uid"), int) else None
        if session.rotated:
            raw = self.sessions.create(data, user_id=uid, now=now, address=request.remote_addr,
                                       agent=request.headers.get("User-Agent"), replaces=session.raw_id)
            self._set_cookie(app, response, raw)
            return
        if session.modified:
            alive = self.sessions.save(session.raw_id, data, user_id=uid, now=now)
        elif now - session.loaded.last_seen > TOUCH_EVERY:
            alive = self.sessions.save(session.raw_id, None, user_id=uid, now=now)
        else:
            return
        if not alive:  # ended by someone else during this request: the browser forgets it too
            self._drop_cookie(app, response)


def seconds_left(session, now: float, settings, *, touched: bool = False) -> int | None:
    """Seconds before ``session`` ends by idleness (or by its lifetime, if sooner), as of the end of this request;
    None without a server-side row. Reading it changes nothing: only a request that touches the session (a save,
    "Rester connecté", or any page once ``TOUCH_EVERY`` has passed) moves the idle end."""
    loaded = getattr(session, "loaded", None)
    if loaded is None:
        return None
    seen = loaded.last_seen
    if touched or session.modified or getattr(session, "rotated", False) or now - seen > TOUCH_EVERY:
        seen = now
    end = min(seen + settings.session_idle, loaded.created_at + settings.session_lifetime)
    return max(0, int(end - now))
