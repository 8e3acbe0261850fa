"""`lakegate users ...` and `lakegate tokens ...`: who may use lakegate, and their API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lakegate.cli.common import HomeOption, err, fail, opened, out, when
from lakegate.errors import ConfigError

users_app = typer.Typer(no_args_is_help=True, help="Users and service accounts, with their roles.")
tokens_app = typer.Typer(no_args_is_help=True, help="API tokens: created (shown once), listed, revoked.")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The principal's name (letters, digits, _ . @ -).")],
    *,
    role: Annotated[str, typer.Option("--role", help="admin, analyst or provider.")] = "analyst",
    service: Annotated[bool, typer.Option("--service", help="A service account (for a program).")] = False,
    workgroup: Annotated[str | None, typer.Option("--workgroup", help="Its workgroup.")] = None,
    landing_prefix: Annotated[
        str | None, typer.Option("--landing-prefix", help="Where a provider may upload, e.g. acme/.")
    ] = None,
    description: Annotated[str, typer.Option("--description", help="Who or what it is.")] = "",
    home: HomeOption = None,
) -> None:
    """Add a user (or a service account with --service)."""
    from lakegate.auth.principals import Principals

    with opened(home) as application:
        added = Principals(application.catalog).add(
            name,
            role=role,
            kind="service" if service else "user",
            workgroup=workgroup,
            landing_prefix=landing_prefix,
            description=description,
        )
    hint = f"`lakegate tokens create {added.name}` gives it a token"
    out.print(f"added {added.kind} {added.name} ({added.role}); {hint}")


@users_app.command("list")
def users_list(home: HomeOption = None) -> None:
    """Every principal, with its role, workgroup and state."""
    from lakegate.auth.principals import Principals

    with opened(home) as application:
        people = Principals(application.catalog)
        found = people.all()
        active: dict[str, int] = {}
        for token in people.tokens():
            active[token.principal] = active.get(token.principal, 0) + (token.state() == "active")
    if not found:
        out.print("no principals yet (`lakegate up` creates the first admin)")
        return
    grid = Table("name", "kind", "role", "workgroup", "landing prefix", "tokens", "state", "since", box=None)
    for p in found:
        state = "disabled" if p.disabled_at else "active"
        grid.add_row(
            p.name, p.kind, p.role, p.workgroup or "", p.landing_prefix or "", str(active.get(p.name, 0)),
            state + (" (lakegate.yaml)" if p.declared else ""), when(p.created_at),
        )  # fmt: skip
    out.print(grid)


@users_app.command("disable")
def users_disable(name: str, home: HomeOption = None) -> None:
    """Stop a principal: its tokens stop working at once (its history stays)."""
    from lakegate.auth.principals import Principals

    with opened(home) as application:
        Principals(application.catalog).disable(name)
    out.print(f"disabled {name}: its tokens no longer work")


@users_app.command("enable")
def users_enable(name: str, home: HomeOption = None) -> None:
    """Let a disabled principal in again (with its tokens that are not revoked or expired)."""
    from lakegate.auth.principals import Principals

    with opened(home) as application:
        Principals(application.catalog).enable(name)
    out.print(f"enabled {name}")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="The principal the token is for.")],
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime, e.g. 90d, 12h (default: until revoked).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="What the token is for.")] = "",
    home: HomeOption = None,
) -> None:
    """Create a token and print it — the only time it is shown."""
    from lakegate.auth.principals import Principals
    from lakegate.config import parse_duration

    try:
        lifetime = parse_duration(expires) if expires else None
    except ValueError as exc:
        raise fail(
            ConfigError(f"--expires: {exc}", code="cli.bad_option", hint="e.g. 90d, 12h, 30m")
        ) from None
    with opened(home) as application:
        token, info = Principals(application.catalog).create_token(name, expires_in=lifetime, note=note)
    out.print(token)
    until = f"until {when(info.expires_at)}" if info.expires_at else "until revoked"
    err.print(
        f"token {info.id} for {name}, valid {until}. It is shown only now: keep it safe "
        f"(`lakegate tokens revoke {info.id}` ends it).",
        markup=False,
        soft_wrap=True,
    )


@tokens_app.command("list")
def tokens_list(
    name: Annotated[str | None, typer.Argument(help="Only this principal's tokens.")] = None,
    home: HomeOption = None,
) -> None:
    """Tokens (by id, never the secret): whose, when made, expiry, last use, state."""
    from lakegate.auth.principals import Principals

    with opened(home) as application:
        found = Principals(application.catalog).tokens(name)
    if not found:
        out.print("no tokens")
        return
    grid = Table("id", "principal", "state", "created", "expires", "last used", "note", box=None)
    for t in found:
        grid.add_row(
            t.id, t.principal, t.state(), when(t.created_at), when(t.expires_at) if t.expires_at else "never",
            when(t.last_used_at) if t.last_used_at else "never", t.note,
        )  # fmt: skip
    out.print(grid)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (`lakegate tokens list`).")],
    home: HomeOption = None,
) -> None:
    """Revoke a token: it stops working at once."""
    from lakegate.auth.principals import Principals

    with opened(home) as application:
        info = Principals(application.catalog).revoke(token_id.removeprefix("lg_").split("_")[0])
    out.print(f"revoked token {info.id} of {info.principal}")
