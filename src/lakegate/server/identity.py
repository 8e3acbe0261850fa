"""Who sends a request: the principal of its bearer token or of its console session."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from lakegate.auth import tokens as token_format
from lakegate.auth.principals import Principal, Principals
from lakegate.auth.sessions import COOKIE, CSRF_HEADER, Sessions
from lakegate.errors import AuthError

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticated(principals: Principals, sessions: Sessions | None = None) -> Callable[[Request], Principal]:
    """A dependency: the principal of the request's bearer token, or of its console session
    cookie — whose requests that change anything must also carry the session's CSRF token.

    Raises: AuthError ``auth.invalid`` (401) without a valid token or session, ``auth.csrf``
    (403) for a change by cookie without the CSRF token.
    """

    def who(request: Request) -> Principal:
        header = request.headers.get("authorization")
        cookie = request.cookies.get(COOKIE)
        if header is None and cookie and sessions is not None:
            session = sessions.get(cookie)
            if request.method not in _SAFE_METHODS:
                sessions.check_csrf(session, request.headers.get(CSRF_HEADER))
            request.state.token_id = session.token_id
            return session.principal
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(
                "this needs a token",
                hint="send `Authorization: Bearer <token>`; `lakegate tokens create NAME` makes one",
            )
        principal = principals.authenticate(token)
        request.state.token_id = token_format.token_id(token.strip())  # work it begins is watched
        return principal

    return who
