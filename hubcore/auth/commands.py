"""``hubcore user ...``: accounts, roles, passwords and API tokens from the terminal."""

from __future__ import annotations

import secrets

import click

from hubcore.auth.actions import ROLES, role_label


def _connect() -> None:
    from hubcore.cli import _connect as connect

    connect()


def _place(site: str | None, municipality: str | None):
    from hubcore.errors import NotFound
    from hubcore.sites.operations import get_municipality, get_site

    try:
        s = get_site(site) if site else None
        m = get_municipality(municipality) if municipality else None
    except NotFound as exc:
        raise click.ClickException(f"no such site or municipality: {exc}") from None
    return m, s


def _user(email: str):
    from hubcore.auth.operations import find_user

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"no user with the email {email}")
    return user


def _invalid(exc) -> click.ClickException:
    return click.ClickException("; ".join(exc.errors.values()))


def _new_password() -> str:
    # Readable enough to type on a tablet once, then change.
    return secrets.token_urlsafe(12)


@click.group()
def user() -> None:
    """Manage user accounts, their roles and API tokens."""


@user.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name, e.g. 佐藤 花子.")
@click.option("--role", type=click.Choice(list(ROLES)), help="A first role to grant.")
@click.option("--site", help="Site slug (for site_manager, staff, viewer).")
@click.option("--municipality", help="Municipality slug (for municipality_admin).")
@click.option("--password", help="Initial password (default: a random one, printed once).")
def user_create(email: str, name: str, role: str | None, site: str | None,
                municipality: str | None, password: str | None) -> None:
    """Create an account with EMAIL, optionally with a first role."""
    from hubcore import db
    from hubcore.auth import operations as ops
    from hubcore.errors import Invalid

    _connect()
    password = password or _new_password()
    with db.database.connection_context():
        m, s = _place(site, municipality)
        try:
            with db.write_transaction():
                u = ops.create_user(email, name, password)
                if role:
                    ops.grant_role(u, role, m, s)
        except Invalid as exc:
            raise _invalid(exc) from None
    click.echo(f"created {u.email} (id {u.id})" + (f" as {role}" if role else ""))
    click.echo(f"password: {password}")


@user.command("list")
def user_list() -> None:
    """List accounts with their roles."""
    from hubcore import db
    from hubcore.auth.models import RoleGrant, User

    _connect()
    with db.database.connection_context():
        for u in User.select().order_by(User.email):
            state = "" if u.active else "  (deactivated)"
            click.echo(f"{u.email:<36} {u.name}{state}")
            for g in RoleGrant.select().where(RoleGrant.user == u).order_by(RoleGrant.id):
                place = g.site.slug if g.site_id else (
                    g.municipality.slug if g.municipality_id else "platform")
                click.echo(f"{'':<4}{g.role:<20} {place}")


@user.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(list(ROLES)))
@click.option("--site", help="Site slug (for site_manager, staff, viewer).")
@click.option("--municipality", help="Municipality slug (for municipality_admin).")
@click.option("--remove", is_flag=True, help="Take the role away instead.")
def user_set_role(email: str, role: str, site: str | None, municipality: str | None,
                  remove: bool) -> None:
    """Grant ROLE to the user with EMAIL at a site or municipality (or --remove it)."""
    from hubcore import db
    from hubcore.auth import operations as ops
    from hubcore.errors import Invalid

    _connect()
    with db.database.connection_context():
        u = _user(email)
        m, s = _place(site, municipality)
        try:
            changed = (ops.revoke_role if remove else ops.grant_role)(u, role, m, s)
        except Invalid as exc:
            raise _invalid(exc) from None
    verb = "removed" if remove else "granted"
    click.echo(f"{role_label(role)}: {verb}" + ("" if changed else " (no change)"))


@user.command("reset-password")
@click.argument("email")
@click.option("--password", help="The new password (default: a random one, printed once).")
def user_reset_password(email: str, password: str | None) -> None:
    """Set a new password; the user's open sessions end."""
    from hubcore import db
    from hubcore.auth import operations as ops
    from hubcore.errors import Invalid

    _connect()
    password = password or _new_password()
    with db.database.connection_context():
        u = _user(email)
        try:
            ops.set_password(u, password, reset=True)
        except Invalid as exc:
            raise _invalid(exc) from None
    click.echo(f"new password for {u.email}: {password}")


@user.group("token")
def token() -> None:
    """API tokens: create, list, revoke."""


@token.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--write", is_flag=True, help="Allow changes (default: read only).")
@click.option("--site", help="Limit the token to one site.")
def token_create(email: str, name: str, write: bool, site: str | None) -> None:
    """Create a token for the user with EMAIL; the secret is printed once."""
    from hubcore import db
    from hubcore.auth import operations as ops
    from hubcore.errors import Invalid

    _connect()
    with db.database.connection_context():
        u = _user(email)
        _m, s = _place(site, None)
        try:
            t, secret = ops.create_token(u, name, read_only=not write, site=s)
        except Invalid as exc:
            raise _invalid(exc) from None
    click.echo(f"token {t.id} ({'read/write' if write else 'read only'}): {secret}")


@token.command("list")
@click.argument("email")
def token_list(email: str) -> None:
    """List the tokens of the user with EMAIL."""
    from hubcore import db
    from hubcore.auth import operations as ops

    _connect()
    with db.database.connection_context():
        for t in ops.list_tokens(_user(email)):
            state = "revoked" if t.revoked_at else ("read only" if t.read_only else "read/write")
            click.echo(f"{t.id:>5}  {t.prefix}…  {state:<10} {t.name}")


@token.command("revoke")
@click.argument("email")
@click.argument("token_id")
def token_revoke(email: str, token_id: str) -> None:
    """Revoke token TOKEN_ID of the user with EMAIL."""
    from hubcore import db
    from hubcore.auth import operations as ops
    from hubcore.errors import NotFound

    _connect()
    with db.database.connection_context():
        try:
            t = ops.get_token(_user(email), token_id)
        except NotFound:
            raise click.ClickException(f"{email} has no token {token_id}") from None
        ops.revoke_token(t)
    click.echo(f"token {t.id} revoked")
