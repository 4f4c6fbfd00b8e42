"""Flask sessions kept as rows of the shared database (``verifier.sessions``), not in the cookie.

The cookie carries only a random id; what the session holds (the logged-in user, the CSRF token, a ticket between
the first-login steps, flashed messages) is in the row, sealed under a key derived from the id. Logging in and
choosing a new PIN rotate the id (``session.rotate()``); logging out ends it (``session.end()``). A session that
an administrator ended, that idled too long, or that outlived its lifetime is gone for every process at once.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from verifier.sessions import TOUCH_EVERY, Loaded, Sessions, well_formed


class ServerSession(CallbackDict, SessionMixin):
    """The session of one request: a dict, plus what the interface must do with its row at the end."""

    def __init__(self, data: dict | None = None, raw_id: str | None = None, loaded: Loaded | None = None) -> None:
        def on_update(_self) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.raw_id = raw_id
        self.loaded = loaded
        self.modified = False
        self.rotated = False
        self.ended = False
        #: the browser presented a session that no longer exists (expired, ended by an administrator, logged out)
        self.expired = False

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

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        raw = request.cookies.get(self.get_cookie_name(app))
        if raw is None:
            return ServerSession()
        loaded = self.sessions.load(raw, self.clock()) if well_formed(raw) else None
        if loaded is None:
            gone = ServerSession()
            gone.expired = True
            return gone
        return ServerSession(loaded.data, raw, loaded)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        options = {"domain": self.get_cookie_domain(app), "path": self.get_cookie_path(app)}
        now = self.clock()
        if session.ended or session.expired or (not session and session.raw_id is not None and session.modified):
            if session.raw_id is not None:
                self.sessions.delete(session.raw_id)
            if session:  # an expired session that now holds something (a CSRF token): start a new one
                session.ended = session.expired = False
                session.raw_id = None
                return self.save_session(app, session, response)
            response.delete_cookie(name, secure=self.get_cookie_secure(app), httponly=True,
                                   samesite=self.get_cookie_samesite(app), **options)
            return
        if not session:
            return  # nothing to keep: no row, no cookie
        data = dict(session)
        uid = data.get("uid") if isinstance(data.get("uid"), int) else None
        if session.raw_id is None or session.rotated:
            from flask import request

            raw = self.sessions.create(data, user_id=uid, now=now, address=request.remote_addr,
                                       agent=request.headers.get("User-Agent"), replaces=session.raw_id)
            response.set_cookie(name, raw, httponly=True, secure=self.get_cookie_secure(app),
                                samesite=self.get_cookie_samesite(app), **options)
            response.vary.add("Cookie")
            return
        if session.modified:
            alive = self.sessions.save(session.raw_id, data, user_id=uid, now=now)
        elif now - session.loaded.last_seen > TOUCH_EVERY:
            alive = self.sessions.save(session.raw_id, None, user_id=uid, now=now)
        else:
            return
        if not alive:  # ended by someone else during this request: the browser forgets it too
            response.delete_cookie(name, secure=self.get_cookie_secure(app), httponly=True,
                                   samesite=self.get_cookie_samesite(app), **options)
