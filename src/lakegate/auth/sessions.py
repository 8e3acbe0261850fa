"""Signed-in sessions of the web console.

Signing in proves a token once; the browser then holds a random session secret in an HTTP-only,
SameSite=Strict cookie, and the catalog keeps only its SHA-256. A session rests on its token:
revoking or expiring the token, or disabling the principal, ends the session too. Every request
that changes something must also carry the session's CSRF token (``X-CSRF-Token``), which the
page reads from the sign-in answer; another site can make a browser send the cookie but cannot
read that token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa

from lakegate.auth import tokens as t
from lakegate.auth.principals import Principal, Principals, _principal, usable
from lakegate.catalog.model import principals, sessions, tokens
from lakegate.errors import AuthError

LIFETIME = 12 * 3600.0  # seconds a sign-in lasts
COOKIE = "lakegate_session"
CSRF_HEADER = "x-csrf-token"
_ENDED = "not signed in, or the session ended (signed out, expired, or its token was revoked)"


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: float
    token_id: str | None = None  # the token it was opened with


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Sessions:
    def __init__(self, principals_: Principals, lifetime: float = LIFETIME) -> None:
        self.principals = principals_
        self.catalog = principals_.catalog
        self.lifetime = lifetime

    def open(self, token: str) -> tuple[str, Session]:
        """A new session for ``token``: the cookie's secret (given out once) and the session.

        Raises: AuthError ``auth.invalid`` for a token that does not authenticate.
        """
        principal = self.principals.authenticate(token)
        token_id = t.token_id(token.strip())
        assert token_id is not None  # authenticate() checked its form
        secret = secrets.token_urlsafe(32)
        now = time.time()
        session = Session(principal, secrets.token_urlsafe(24), now + self.lifetime)
        with self.catalog.writing("opening a console session") as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at <= now))
            conn.execute(
                sessions.insert().values(
                    id=_digest(secret), token_id=token_id, csrf=session.csrf, created_at=now,
                    expires_at=session.expires_at,
                )
            )  # fmt: skip
        return secret, session

    def get(self, secret: str) -> Session:
        """The live session of a cookie's ``secret``.

        Raises: AuthError ``auth.invalid`` — the same for an unknown, expired or ended session.
        """
        now = time.time()
        with self.catalog.reading("checking a console session") as conn:
            row = conn.execute(
                sa.select(
                    principals, sessions.c.csrf, sessions.c.expires_at.label("session_expires"),
                    sessions.c.token_id,
                    tokens.c.revoked_at, tokens.c.expires_at.label("token_expires"),
                )
                .select_from(sessions)
                .join(tokens, tokens.c.id == sessions.c.token_id)
                .join(principals, principals.c.id == tokens.c.principal_id)
                .where(sessions.c.id == _digest(secret))
            ).first()  # fmt: skip
        if (
            row is None
            or row.session_expires <= now
            or not usable(row.revoked_at, row.token_expires, row.disabled_at, now)
        ):
            raise AuthError(_ENDED, hint="sign in again with a token")
        return Session(_principal(row), row.csrf, row.session_expires, row.token_id)

    def check_csrf(self, session: Session, sent: str | None) -> None:
        """Raises: AuthError ``auth.csrf`` (403) unless ``sent`` is the session's CSRF token."""
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            raise AuthError(
                "this change needs the session's CSRF token",
                code="auth.csrf",
                hint=f"send the `csrf` value of POST/GET /v1/session in an {CSRF_HEADER} header",
            )

    def close(self, secret: str) -> None:
        with self.catalog.writing("ending a console session") as conn:
            conn.execute(sessions.delete().where(sessions.c.id == _digest(secret)))
