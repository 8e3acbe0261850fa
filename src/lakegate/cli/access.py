"""`lakegate users ...` and `lakegate tokens ...`: who may use lakegate, and their API tokens."""

from __future__ import annotations

from typing import Annotated, Any

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
    aws: Annotated[
        bool,
        typer.Option("--aws", help="An AWS access key id and secret, for the AWS endpoint (--aws-port)."),
    ] = False,
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
        if aws:
            from lakegate.server.aws.app import aws_keys

            token, info = aws_keys(application).create(name, expires_in=lifetime, note=note)
        else:
            token, info = Principals(application.catalog).create_token(name, expires_in=lifetime, note=note)
    until = f"until {when(info.expires_at)}" if info.expires_at else "until revoked"
    if aws:
        out.print(f"aws_access_key_id = {info.id}\naws_secret_access_key = {token}", markup=False)
        err.print(
            f"AWS key {info.id} for {name}, valid {until}. The secret is shown only now: put both lines "
            f"under a profile in ~/.aws/credentials (`lakegate tokens revoke {info.id}` ends it).",
            markup=False,
            soft_wrap=True,
        )
        return
    out.print(token)
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
    grid = Table("id", "kind", "principal", "state", "created", "expires", "last used", "note", box=None)
    for t in found:
        grid.add_row(
            t.id, t.kind, t.principal, t.state(), when(t.created_at),
            when(t.expires_at) if t.expires_at else "never",
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


grants_app = typer.Typer(no_args_is_help=True, help="What principals and workgroups may read.")


@grants_app.command("add")
def grants_add(
    target: Annotated[str, typer.Argument(help="database (all its tables) or database.table")],
    *,
    to: Annotated[str | None, typer.Option("--to", help="The principal.")] = None,
    workgroup: Annotated[
        str | None, typer.Option("--workgroup", help="Or every principal of a workgroup.")
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Only these columns (comma-separated).")
    ] = None,
    exclude: Annotated[str | None, typer.Option("--exclude", help="Every column but these.")] = None,
    where: Annotated[
        str | None, typer.Option("--where", help="Only rows where this holds: region = 'EU'.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Let a principal (or a workgroup) read a database or a table, maybe only some columns or rows."""
    from lakegate.query.permissions import Grants

    if columns and exclude:
        raise fail(ConfigError("--columns or --exclude, not both", code="cli.bad_option"))
    database, _, table = target.partition(".")
    listed = columns or exclude
    with opened(home) as application:
        made = Grants(application.catalog).grant(
            database=database,
            table=table or "*",
            principal=to,
            workgroup=workgroup,
            columns=[c.strip() for c in listed.split(",") if c.strip()] if listed else None,
            exclude=bool(exclude),
            row_filter=where,
            by="cli",
        )
    out.print(f"grant {made.id}: {made.grantee_kind} {made.grantee} may read {made.describe()}")


@grants_app.command("list")
def grants_list(home: HomeOption = None) -> None:
    """Every grant."""
    from lakegate.query.permissions import Grants

    with opened(home) as application:
        found = Grants(application.catalog).all()
    if not found:
        out.print("no grants: analysts see no tables until one is added")
        return
    grid = Table("id", "to", "reads", "by", "since", box=None)
    for g in found:
        grid.add_row(
            str(g.id), f"{g.grantee_kind} {g.grantee}", g.describe(), g.granted_by, when(g.created_at)
        )
    out.print(grid)


@grants_app.command("revoke")
def grants_revoke(grant_id: int, home: HomeOption = None) -> None:
    """Take a grant back (queries from then on no longer see what it allowed)."""
    from lakegate.query.permissions import Grants

    with opened(home) as application:
        gone = Grants(application.catalog).revoke(grant_id)
    out.print(f"revoked grant {gone.id}: {gone.grantee} no longer reads {gone.describe()}")


workgroups_app = typer.Typer(no_args_is_help=True, help="Limits shared by a workgroup's queries.")


@workgroups_app.command("set")
def workgroups_set(
    name: str,
    *,
    timeout: Annotated[
        str | None, typer.Option("--timeout", help="Query timeout, e.g. 30m (default 30m).")
    ] = None,
    max_bytes: Annotated[
        int | None, typer.Option("--max-bytes", help="Most bytes of files a query may read.")
    ] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Most rows a query may return.")] = None,
    max_concurrent: Annotated[
        int | None, typer.Option("--max-concurrent", help="Queries running at once.")
    ] = None,
    max_queued: Annotated[
        int | None, typer.Option("--max-queued", help="Queries waiting for a turn.")
    ] = None,
    memory: Annotated[str | None, typer.Option("--memory", help="Memory limit per query, e.g. 2GB.")] = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="duckdb (default), spark, or auto (Spark for large reads)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Create a workgroup, or change its limits (principals join with `users add --workgroup`)."""
    from lakegate.auth.workgroups import Workgroups
    from lakegate.config import parse_duration

    try:
        seconds = parse_duration(timeout) if timeout else None
    except ValueError as exc:
        raise fail(ConfigError(f"--timeout: {exc}", code="cli.bad_option", hint="e.g. 30m, 2h")) from None
    with opened(home) as application:
        group = Workgroups(application.catalog).put(
            name, timeout_seconds=seconds, max_bytes_scanned=max_bytes, max_rows=max_rows,
            max_concurrent=max_concurrent, max_queued=max_queued, memory_limit=memory, engine=engine,
        )  # fmt: skip
    out.print(f"workgroup {group.name}: {_limits(group)}")


def _limits(group: object) -> str:
    g: Any = group
    parts = [f"timeout {g.timeout_seconds:g} s", f"{g.max_concurrent} at once, {g.max_queued} queued"]
    if g.max_bytes_scanned is not None:
        parts.append(f"at most {g.max_bytes_scanned:,} bytes read")
    if g.max_rows is not None:
        parts.append(f"at most {g.max_rows:,} rows")
    if g.memory_limit:
        parts.append(f"memory {g.memory_limit}")
    if g.engine != "duckdb":
        parts.append(f"on {g.engine}")
    return ", ".join(parts)


@workgroups_app.command("list")
def workgroups_list(home: HomeOption = None) -> None:
    """Every workgroup with its limits."""
    from lakegate.auth.workgroups import Workgroups

    with opened(home) as application:
        found = Workgroups(application.catalog).all()
    if not found:
        out.print("no workgroups: queries get the server's query settings")
    for g in found:
        out.print(f"{g.name}: {_limits(g)}")
