"""Principals and their tokens, kept in the catalog.

Roles: ``admin`` (everything, including managing principals), ``analyst`` (queries what it is
granted), ``provider`` (may only upload into its landing prefix). Kinds: ``user`` or
``service`` (an account for a program; the same rights by role).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lakegate.auth import tokens as t
from lakegate.catalog import Catalog
from lakegate.catalog.model import principals, tokens
from lakegate.config import PrincipalSettings
from lakegate.errors import AuthError, CatalogError, ConfigError

ROLES = ("admin", "analyst", "provider")
KINDS = ("user", "service")
FIRST_ADMIN = "admin"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}")
_TOUCH_EVERY = 60.0  # seconds between writes of a token's last use
_INVALID = "the token is not valid: unknown, revoked, expired, or its principal is disabled"


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    kind: str
    role: str
    workgroup: str | None
    landing_prefix: str | None
    description: str
    declared: bool
    created_at: float
    disabled_at: float | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


HOME_ADMIN_NAME = "(home admin)"  # not a valid principal name: it can never be a real one's


def home_admin() -> Principal:
    """Whoever opens the home itself (``lakegate sql``, ``lakegate.connect(home)``): an admin,
    recorded in the history under ``(home admin)``."""
    return Principal(0, HOME_ADMIN_NAME, "user", "admin", None, None, "", False, 0.0, None)


@dataclass(frozen=True)
class TokenInfo:
    id: str
    principal: str
    note: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None
    kind: str = "token"  # token (an API token) or aws (an AWS access key id)

    def state(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class ScramSecrets:
    """What a SCRAM-SHA-256 server needs to check any of a principal's tokens."""

    salt: bytes
    iterations: int
    keys: list[tuple[str, bytes, bytes]]  # (token id, StoredKey, ServerKey) of its usable tokens


def usable(revoked_at: float | None, expires_at: float | None, disabled_at: float | None, now: float) -> bool:
    """Whether a token with these times (and its principal's) still authenticates."""
    return revoked_at is None and (expires_at is None or expires_at > now) and disabled_at is None


def _principal(row: Any) -> Principal:
    return Principal(
        row.id, row.name, row.kind, row.role, row.workgroup, row.landing_prefix, row.description,
        bool(row.declared), row.created_at, row.disabled_at,
    )  # fmt: skip


def _token(row: Any, principal: str) -> TokenInfo:
    return TokenInfo(
        row.id, principal, row.note, row.created_at, row.expires_at, row.revoked_at, row.last_used_at,
        row.kind,
    )  # fmt: skip


class Principals:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # token id -> SHA-256 of a token already proven: spares the key derivation on every request
        self._proven: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- principals -----------------------------------------------------------------------

    def add(
        self,
        name: str,
        *,
        role: str = "analyst",
        kind: str = "user",
        workgroup: str | None = None,
        landing_prefix: str | None = None,
        description: str = "",
        declared: bool = False,
    ) -> Principal:
        """Raises: ConfigError ``auth.bad_principal`` or ``auth.exists``."""
        _check(name, role, kind, landing_prefix)
        with self.catalog.writing(f"adding principal {name}") as conn:
            if conn.execute(sa.select(principals.c.id).where(principals.c.name == name)).first():
                raise ConfigError(
                    f"a principal named {name!r} exists already",
                    code="auth.exists",
                    hint="pick another name, or `lakegate users list` to see it",
                )
            _insert_principal(
                conn, name=name, kind=kind, role=role, workgroup=workgroup, landing_prefix=landing_prefix,
                description=description, declared=declared,
            )  # fmt: skip
        found = self.get(name)
        assert found is not None
        return found

    def update(self, name: str, **changes: Any) -> Principal:
        """Change a principal's role, kind, workgroup, landing prefix or description.

        Raises: ConfigError ``auth.unknown`` or ``auth.bad_principal``.
        """
        current = self.require(name)
        merged = {
            "role": current.role,
            "kind": current.kind,
            "landing_prefix": current.landing_prefix,
            **{k: v for k, v in changes.items() if v is not None},
        }
        _check(name, merged["role"], merged["kind"], merged["landing_prefix"])
        allowed = {"role", "kind", "workgroup", "landing_prefix", "description", "declared"}
        values = {k: v for k, v in changes.items() if k in allowed and v is not None}
        if values:
            with self.catalog.writing(f"changing principal {name}") as conn:
                conn.execute(principals.update().where(principals.c.id == current.id).values(**values))
        return self.require(name)

    def get(self, name: str) -> Principal | None:
        with self.catalog.reading(f"reading principal {name}") as conn:
            row = conn.execute(sa.select(principals).where(principals.c.name == name)).first()
        return None if row is None else _principal(row)

    def require(self, name: str) -> Principal:
        """Raises: ConfigError ``auth.unknown``."""
        found = self.get(name)
        if found is None:
            raise ConfigError(
                f"no principal named {name!r}", code="auth.unknown", hint="`lakegate users list` shows them"
            )
        return found

    def all(self) -> list[Principal]:
        with self.catalog.reading("listing principals") as conn:
            rows = conn.execute(sa.select(principals).order_by(principals.c.name)).all()
        return [_principal(r) for r in rows]

    def disable(self, name: str) -> Principal:
        """Stop a principal: its tokens stop working at once (it stays, for the audit log)."""
        found = self.require(name)
        with self.catalog.writing(f"disabling principal {name}") as conn:
            conn.execute(
                principals.update().where(principals.c.id == found.id).values(disabled_at=time.time())
            )
        self._forget()
        return self.require(name)

    def enable(self, name: str) -> Principal:
        found = self.require(name)
        with self.catalog.writing(f"enabling principal {name}") as conn:
            conn.execute(principals.update().where(principals.c.id == found.id).values(disabled_at=None))
        return self.require(name)

    # -- tokens ---------------------------------------------------------------------------

    def enabled(self, name: str) -> Principal:
        """``name``, which may be given a token or key.

        Raises: ConfigError ``auth.unknown``, or ``auth.disabled`` for a disabled principal."""
        owner = self.require(name)
        if owner.disabled_at is not None:
            raise ConfigError(
                f"principal {name!r} is disabled",
                code="auth.disabled",
                hint=f"`lakegate users enable {name}` first",
            )
        return owner

    def create_token(
        self, name: str, *, expires_in: float | None = None, note: str = ""
    ) -> tuple[str, TokenInfo]:
        """A new token for ``name``: the token (to show once) and its record.

        Raises: ConfigError ``auth.unknown``, or ``auth.disabled`` for a disabled principal.
        """
        owner = self.enabled(name)
        with self.catalog.writing(f"creating a token for {name}") as conn:
            token, token_id = _insert_token(conn, owner.id, note=note, expires_in=expires_in)
        return token, self._token_info(token_id)

    def _token_info(self, token_id: str) -> TokenInfo:
        with self.catalog.reading(f"reading token {token_id}") as conn:
            row = conn.execute(
                sa.select(tokens, principals.c.name.label("principal"))
                .join(principals, principals.c.id == tokens.c.principal_id)
                .where(tokens.c.id == token_id)
            ).first()
        if row is None:
            raise ConfigError(
                f"no token {token_id!r}", code="auth.unknown_token", hint="`lakegate tokens list` shows them"
            )
        return _token(row, row.principal)

    def tokens(self, name: str | None = None) -> list[TokenInfo]:
        query = sa.select(tokens, principals.c.name.label("principal")).join(
            principals, principals.c.id == tokens.c.principal_id
        )
        if name is not None:
            query = query.where(principals.c.name == name)
        with self.catalog.reading("listing tokens") as conn:
            rows = conn.execute(query.order_by(tokens.c.created_at)).all()
        return [_token(r, r.principal) for r in rows]

    def revoke(self, token_id: str) -> TokenInfo:
        """Revoke a token by its id (it stops working at once; the record stays)."""
        info = self._token_info(token_id)
        if info.revoked_at is None:
            with self.catalog.writing(f"revoking token {token_id}") as conn:
                conn.execute(tokens.update().where(tokens.c.id == token_id).values(revoked_at=time.time()))
        with self._lock:
            self._proven.pop(token_id, None)
        return self._token_info(token_id)

    def _forget(self) -> None:
        with self._lock:
            self._proven.clear()

    # -- authentication -------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal:
        """The principal ``token`` belongs to.

        Raises:
            AuthError: ``auth.invalid`` — the same message whatever is wrong with the token
                (unknown, revoked, expired, disabled principal), so nothing is learnt by guessing.
        """
        token_id = t.token_id(token.strip())
        if token_id is None:
            raise AuthError(
                _INVALID,
                hint="send `Authorization: Bearer <token>` with a token from `lakegate tokens create`",
            )
        with self.catalog.reading("checking a token") as conn:
            row = conn.execute(
                sa.select(
                    tokens.c.stored_key, tokens.c.revoked_at, tokens.c.expires_at, tokens.c.last_used_at,
                    principals.c.name, principals.c.salt, principals.c.iterations, principals.c.disabled_at,
                )
                .join(principals, principals.c.id == tokens.c.principal_id)
                .where(tokens.c.id == token_id, tokens.c.kind == "token")
            ).first()  # fmt: skip
        now = time.time()
        if row is None or not usable(row.revoked_at, row.expires_at, row.disabled_at, now):
            raise AuthError(_INVALID, hint="ask an admin for a new token")
        digest = hashlib.sha256(token.strip().encode()).digest()
        with self._lock:
            proven = self._proven.get(token_id) == digest
        if not proven:
            if not t.matches(token.strip(), t.unb64(row.salt), row.iterations, t.unb64(row.stored_key)):
                raise AuthError(_INVALID, hint="ask an admin for a new token")
            with self._lock:
                self._proven[token_id] = digest
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
            with self.catalog.writing("recording a token's use") as conn:
                conn.execute(tokens.update().where(tokens.c.id == token_id).values(last_used_at=now))
        return self.require(row.name)

    def still_allowed(self, name: str, token_id: str | None) -> Principal | None:
        """``name`` as it is now, if it may still use the session it opened with ``token_id``:
        not disabled, and the token neither revoked nor expired (``None`` otherwise). Open
        sessions (the PostgreSQL wire) ask this every second, so that access ends when it ends."""
        found = self.get(name)
        if found is None or found.disabled_at is not None:
            return None
        if token_id is not None:
            with self.catalog.reading("checking a session's token") as conn:
                row = conn.execute(
                    sa.select(tokens.c.revoked_at, tokens.c.expires_at, tokens.c.principal_id).where(
                        tokens.c.id == token_id
                    )
                ).first()
            if row is None or row.principal_id != found.id:
                return None
            if not usable(row.revoked_at, row.expires_at, None, time.time()):
                return None
        return found

    def touch(self, token_id: str) -> None:
        """Record that a token was just used (at most once a minute), e.g. after a SCRAM exchange."""
        now = time.time()
        with self.catalog.writing("recording a token's use") as conn:
            conn.execute(
                tokens.update()
                .where(tokens.c.id == token_id)
                .where(sa.or_(tokens.c.last_used_at.is_(None), tokens.c.last_used_at < now - _TOUCH_EVERY))
                .values(last_used_at=now)
            )

    def scram_secrets(self, name: str) -> ScramSecrets | None:
        """What a SCRAM-SHA-256 exchange needs for ``name`` (``None`` for an unknown or disabled one)."""
        found = self.get(name)
        if found is None or found.disabled_at is not None:
            return None
        now = time.time()
        with self.catalog.reading(f"reading the tokens of {name}") as conn:
            salt, iterations = conn.execute(
                sa.select(principals.c.salt, principals.c.iterations).where(principals.c.id == found.id)
            ).one()
            rows = conn.execute(
                sa.select(tokens).where(
                    tokens.c.principal_id == found.id, tokens.c.revoked_at.is_(None), tokens.c.kind == "token"
                )
            ).all()
        keys = [
            (r.id, t.unb64(r.stored_key), t.unb64(r.server_key))
            for r in rows
            if r.expires_at is None or r.expires_at > now
        ]
        return ScramSecrets(t.unb64(salt), iterations, keys)

    # -- start-up -------------------------------------------------------------------------

    def apply(self, declared: list[PrincipalSettings]) -> list[str]:
        """Make the catalog hold the principals ``lakegate.yaml`` declares: each created or
        updated; one declared before and no longer, disabled. Returns what changed, for the log."""
        said: list[str] = []
        named = {d.name for d in declared}
        for d in declared:
            fields: dict[str, Any] = {
                "role": d.role, "kind": d.kind, "workgroup": d.workgroup,
                "landing_prefix": d.landing_prefix, "description": d.description,
            }  # fmt: skip
            current = self.get(d.name)
            if current is None:
                try:
                    self.add(d.name, declared=True, **fields)
                    said.append(f"added {d.name} ({d.role})")
                    continue
                except (ConfigError, CatalogError) as exc:  # another node added it just now
                    if exc.code not in ("auth.exists", "catalog.conflict"):
                        raise
                    current = self.require(d.name)
            changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
            if changed or not current.declared:
                self.update(d.name, declared=True, **changed)
                said.append(f"updated {d.name}: {', '.join(sorted(changed)) or 'now declared'}")
            if current.disabled_at is not None:
                self.enable(d.name)
                said.append(f"enabled {d.name}")
        for p in self.all():
            if p.declared and p.name not in named and p.disabled_at is None:
                self.disable(p.name)
                said.append(f"disabled {p.name} (no longer in lakegate.yaml)")
        return said

    def ensure_admin(self) -> str | None:
        """On a catalog without any admin, create the principal ``admin`` and a token for it;
        returns that token (to print once), or ``None`` when an admin exists. Nodes starting at
        once on one catalog ask in turn (one transaction under a catalog-wide lock): exactly one
        creates the admin and prints its token; ``lakegate tokens create admin`` makes another."""
        with self.catalog.exclusively("creating the first admin", "first admin") as conn:
            rows = conn.execute(sa.select(principals.c.id, principals.c.name, principals.c.role,
                                          principals.c.disabled_at)).all()  # fmt: skip
            if any(r.role == "admin" and r.disabled_at is None for r in rows):
                return None
            existing = next((r for r in rows if r.name == FIRST_ADMIN), None)
            if existing is None:
                admin_id = _insert_principal(
                    conn, name=FIRST_ADMIN, kind="user", role="admin", workgroup=None, landing_prefix=None,
                    description="created by the first `lakegate up`", declared=False,
                )  # fmt: skip
            else:
                admin_id = existing.id
                conn.execute(
                    principals.update()
                    .where(principals.c.id == admin_id)
                    .values(role="admin", disabled_at=None)
                )
            token, _token_id = _insert_token(conn, admin_id, note="first start")
        self._forget()
        return token


def _check(name: str, role: str, kind: str, landing_prefix: str | None) -> None:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a principal name",
            code="auth.bad_principal",
            hint="use letters, digits and _ . @ - (up to 63 characters, starting with a letter or digit)",
        )
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}", code="auth.bad_principal", hint=f"use {', '.join(ROLES)}")
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}", code="auth.bad_principal", hint=f"use {', '.join(KINDS)}")
    if role == "provider" and not landing_prefix:
        raise ConfigError(
            f"provider {name!r} needs a landing prefix it may upload into",
            code="auth.bad_principal",
            hint="give one, e.g. --landing-prefix acme/",
        )


def _insert_principal(
    conn: Any,
    *,
    name: str,
    kind: str,
    role: str,
    workgroup: str | None,
    landing_prefix: str | None,
    description: str,
    declared: bool,
) -> int:
    """Insert a principal row (its name checked by the caller); its id."""
    return int(
        conn.execute(
            principals.insert()
            .values(
                name=name, kind=kind, role=role, workgroup=workgroup, landing_prefix=landing_prefix,
                description=description, salt=t.b64(t.new_salt()), iterations=t.ITERATIONS,
                declared=declared, created_at=time.time(),
            )
            .returning(principals.c.id)
        ).scalar_one()
    )  # fmt: skip


def _insert_token(
    conn: Any, principal_id: int, *, note: str, expires_in: float | None = None
) -> tuple[str, str]:
    """A new token of principal ``principal_id``, kept as its verifier only: the token (to show
    once) and its id."""
    row = conn.execute(
        sa.select(principals.c.salt, principals.c.iterations).where(principals.c.id == principal_id)
    ).one()
    token, token_id = t.new_token()
    keys = t.verifier(token, t.unb64(row.salt), row.iterations)
    now = time.time()
    conn.execute(
        tokens.insert().values(
            id=token_id, principal_id=principal_id, stored_key=t.b64(keys.stored_key),
            server_key=t.b64(keys.server_key), note=note, created_at=now,
            expires_at=None if expires_in is None else now + expires_in,
        )
    )  # fmt: skip
    return token, token_id
