"""Principals and tokens: shown once, stored as SCRAM verifiers, revocable, expiring."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from lakegate.auth import tokens as t
from lakegate.auth.principals import Principals
from lakegate.catalog import Catalog
from lakegate.catalog.model import tokens
from lakegate.errors import AuthError, ConfigError


def test_a_token_authenticates_its_principal_and_is_never_stored(catalog: Catalog) -> None:
    people = Principals(catalog)
    people.add("ann", role="analyst", workgroup="sales")
    token, info = people.create_token("ann", note="laptop")
    assert token.startswith("lg_") and info.principal == "ann" and info.state() == "active"
    assert people.authenticate(token).name == "ann"
    with catalog.reading("test") as conn:
        stored = " ".join(str(v) for row in conn.execute(tokens.select()).all() for v in row)
    assert token not in stored and token.split("_", 2)[2] not in stored
    assert people.tokens("ann")[0].last_used_at is not None


@pytest.mark.parametrize("spoil", ["revoke", "expire", "disable", "wrong secret", "garbage"])
def test_every_bad_token_gets_the_same_answer(catalog: Catalog, spoil: str) -> None:
    people = Principals(catalog)
    people.add("bob")
    token, info = people.create_token("bob", expires_in=0.2 if spoil == "expire" else None)
    people.authenticate(token)  # proven once (and remembered)
    if spoil == "revoke":
        people.revoke(info.id)
    elif spoil == "expire":
        time.sleep(0.3)
    elif spoil == "disable":
        people.disable("bob")
    elif spoil == "wrong secret":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    else:
        token = "not a token"
    with pytest.raises(AuthError) as err:
        people.authenticate(token)
    assert err.value.code == "auth.invalid" and "unknown, revoked, expired" in err.value.message


def test_scram_proofs_check_against_any_of_the_principals_tokens(catalog: Catalog) -> None:
    people = Principals(catalog)
    people.add("svc", kind="service")
    first, _ = people.create_token("svc")
    second, _ = people.create_token("svc")
    secrets = people.scram_secrets("svc")
    assert secrets is not None and len(secrets.keys) == 2
    auth_message = b"n=svc,r=abc,r=abcdef,s=xyz,i=4096,c=biws,r=abcdef"
    for token in (first, second):
        # what a PostgreSQL client computes from the password, the salt and the iterations
        salted = hashlib.pbkdf2_hmac("sha256", token.encode(), secrets.salt, secrets.iterations)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        assert sum(t.client_proof_matches(stored, auth_message, proof) for _, stored, _ in secrets.keys) == 1
    assert not any(t.client_proof_matches(s, auth_message, b"\0" * 32) for _, s, _ in secrets.keys)
    assert base64.b64decode(t.b64(secrets.salt)) == secrets.salt


def test_providers_need_a_landing_prefix_and_names_are_checked(catalog: Catalog) -> None:
    people = Principals(catalog)
    with pytest.raises(ConfigError, match="landing prefix"):
        people.add("acme", role="provider")
    assert people.add("acme", role="provider", landing_prefix="acme/").landing_prefix == "acme/"
    for bad in ("", "a b", "../x", "x" * 80):
        with pytest.raises(ConfigError):
            people.add(bad)
    with pytest.raises(ConfigError, match="exists"):
        people.add("acme", role="provider", landing_prefix="acme/")


def test_the_first_start_creates_one_admin_and_its_token(catalog: Catalog) -> None:
    people = Principals(catalog)
    token = people.ensure_admin()
    assert token is not None and people.authenticate(token).is_admin
    assert people.ensure_admin() is None  # an admin exists: nothing more


def test_principals_declared_in_lakegate_yaml_are_applied(catalog: Catalog) -> None:
    from lakegate.config import PrincipalSettings

    people = Principals(catalog)
    declared = [
        PrincipalSettings(name="ann", workgroup="sales"),
        PrincipalSettings(name="etl", kind="service", role="provider", landing_prefix="etl/"),
    ]
    assert people.apply(declared) == ["added ann (analyst)", "added etl (provider)"]
    assert people.apply(declared) == []  # nothing to change
    changed = [PrincipalSettings(name="ann", workgroup="finance")]
    assert people.apply(changed) == ["updated ann: workgroup", "disabled etl (no longer in lakegate.yaml)"]
    assert people.require("ann").workgroup == "finance" and people.require("etl").disabled_at is not None
    people.add("manual")  # made with the CLI: not the file's to disable
    people.apply(changed)
    assert people.require("manual").disabled_at is None


def test_the_commented_example_principals_are_valid() -> None:
    import yaml

    from lakegate.config import Settings, example_config

    text = example_config().split("# principals:")[1]
    lines = [line[4:] for line in text.splitlines() if line.startswith("# #   ")]
    example = yaml.safe_load("\n".join(line[2:] for line in lines[1:]))
    declared = Settings.model_validate({"principals": example}).principals
    assert [(p.name, p.role) for p in declared] == [("ann", "analyst"), ("acme-upload", "provider")]
