"""AWS access keys: how boto3, the AWS CLI, PyAthena and awswrangler sign in to lakegate.

A principal's key is an access key id (``LGAK`` and 12 characters, public) and a secret access
key (40 characters), made by ``lakegate tokens create NAME --aws``, shown once, revocable, with
an expiry, like a token (it is a token record of kind ``aws``).

SigV4 cannot be checked with a one-way verifier as tokens are: the server must compute an HMAC
keyed by the secret itself. So lakegate never stores the secret, nor anything it could be
recovered from: each secret is *derived* from the key id with HMAC-SHA-256 under the nodes'
signing secret (32 random bytes in a file, ``aws.secret_file``, by default
``<home>/aws-signing.secret``, created mode 0600). The catalog holds only the key id, its
principal, times and a check value (an HMAC made with the derived secret) that tells a node
whose signing secret differs from the one the key was made under. A copy of the catalog (a
backup, a read replica, its administrator) therefore gives no way to sign requests; the
signing secret file does, and is kept like a TLS private key. Nodes sharing a catalog share
that file (or the same ``aws.secret_file``); replacing it ends every AWS key at once.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from lakegate.auth.principals import Principal, Principals, TokenInfo, usable
from lakegate.catalog import Catalog
from lakegate.catalog.model import principals, tokens
from lakegate.errors import AuthError, ConfigError

KEY_PREFIX = "LGAK"
# the key that signed the request being answered: a background query it starts is stopped
# when the key is revoked or expires (the access watch), as a token's are
SIGNED_BY: ContextVar[str | None] = ContextVar("lakegate_aws_key", default=None)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_BYTES = 32
log = logging.getLogger(__name__)


def new_key_id() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def is_key_id(text: str) -> bool:
    return len(text) == 16 and text.startswith(KEY_PREFIX) and all(c in _ALPHABET for c in text[4:])


def load_signing_secret(path: Path) -> bytes:
    """The nodes' signing secret, created (32 random bytes, hex, mode 0600) when the file is missing.

    Raises: ConfigError ``aws.bad_secret_file`` when it cannot be read or written, or holds less
    than 32 bytes."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(handle, "w") as out:
                out.write(secrets.token_hex(_SECRET_BYTES) + "\n")
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the AWS signing secret {path} cannot be used: {exc}",
            code="aws.bad_secret_file",
            hint="it holds 64 hex digits (`openssl rand -hex 32`), the same on every node of the catalog",
        ) from None
    if len(secret) < _SECRET_BYTES:
        raise ConfigError(
            f"the AWS signing secret {path} holds {len(secret)} bytes, fewer than {_SECRET_BYTES}",
            code="aws.bad_secret_file",
            hint="make it with `openssl rand -hex 32`",
        )
    return secret


def derive_secret(signing_secret: bytes, key_id: str) -> str:
    """The secret access key of ``key_id``: 40 characters, as AWS's are."""
    digest = hmac.new(signing_secret, b"lakegate aws key\0" + key_id.encode("ascii"), "sha256").digest()
    return base64.b64encode(digest).decode("ascii")[:40]


def _check_value(secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), b"lakegate key check", "sha256").digest()).decode()


@dataclass(frozen=True)
class AwsIdentity:
    """Who signed a request with ``key_id``, and the secret its signature is checked with."""

    principal: Principal
    key_id: str
    secret: str


class AwsKeys:
    """The principals' AWS access keys, checked with ``signing_secret`` (``load_signing_secret``)."""

    def __init__(self, catalog: Catalog, signing_secret: bytes) -> None:
        self.catalog = catalog
        self._signing = signing_secret
        self._people = Principals(catalog)

    def create(self, name: str, *, expires_in: float | None = None, note: str = "") -> tuple[str, TokenInfo]:
        """A new key for ``name``: its secret (to show once) and its record (``id`` is the key id).

        Raises: ConfigError ``auth.unknown`` or ``auth.disabled``."""
        owner = self._people.enabled(name)
        key_id = new_key_id()
        secret = derive_secret(self._signing, key_id)
        now = time.time()
        with self.catalog.writing(f"creating an AWS key for {name}") as conn:
            conn.execute(
                tokens.insert().values(
                    id=key_id, principal_id=owner.id, kind="aws", stored_key=_check_value(secret),
                    server_key="", note=note, created_at=now,
                    expires_at=None if expires_in is None else now + expires_in,
                )
            )  # fmt: skip
        [info] = [k for k in self._people.tokens(name) if k.id == key_id]
        return secret, info

    def identify(self, key_id: str) -> AwsIdentity:
        """The principal and secret of a usable key.

        Raises: AuthError ``aws.unknown_key`` — one message whether the key is unknown, revoked,
        expired, its principal disabled, or made under another signing secret (logged)."""
        invalid = AuthError(
            f"the AWS access key {key_id[:24]} is not valid: unknown, revoked or expired",
            code="aws.unknown_key",
            hint="`lakegate tokens create NAME --aws` makes a key; an admin can say why this one stopped",
        )
        if not is_key_id(key_id):
            raise invalid
        with self.catalog.reading("checking an AWS key") as conn:
            row = conn.execute(
                sa.select(
                    tokens.c.stored_key, tokens.c.revoked_at, tokens.c.expires_at, principals.c.name,
                    principals.c.disabled_at,
                )
                .join(principals, principals.c.id == tokens.c.principal_id)
                .where(tokens.c.id == key_id, tokens.c.kind == "aws")
            ).first()  # fmt: skip
        if row is None or not usable(row.revoked_at, row.expires_at, row.disabled_at, time.time()):
            raise invalid
        secret = derive_secret(self._signing, key_id)
        if not hmac.compare_digest(_check_value(secret), row.stored_key):
            log.warning(
                "AWS key %s was made under another signing secret than this node's (aws.secret_file): "
                "nodes sharing a catalog must share that file",
                key_id,
            )
            raise invalid
        return AwsIdentity(self._people.require(row.name), key_id, secret)

    def used(self, key_id: str) -> None:
        self._people.touch(key_id)
