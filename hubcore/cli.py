"""The ``hubcore`` command."""

from __future__ import annotations

import os
import sys

import click

from hubcore import db
from hubcore.config import ensure_secret_key, instance_path, load_settings
from hubcore.plugins import PluginError, get_host


def _connect() -> None:
    """Configure the database from the environment, or stop with one clear line."""
    settings = load_settings()
    try:
        db.configure(settings.database_url)
        with db.database.connection_context():
            db.database.execute_sql("SELECT 1")
    except db.DatabaseURLError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # the driver's own error, shortened to its first line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"cannot open the database: {first}") from None


@click.group()
@click.version_option(package_name="hubcore")
def cli() -> None:
    """hubcore: one core and one calendar for community hubs.

    Settings come from the environment: HUBCORE_INSTANCE (the instance folder,
    default ./instance) and DATABASE_URL (default: SQLite in the instance folder).
    """


@cli.command()
def init() -> None:
    """Create the instance folder, its secret key and the database schema."""
    inst = instance_path()
    inst.mkdir(parents=True, exist_ok=True)
    ensure_secret_key(inst)
    _connect()
    _migrate()
    click.echo(f"instance ready: {inst}")
    from hubcore.auth.models import User

    with db.database.connection_context():
        if not User.select().exists():
            click.echo("no account yet: hubcore user create YOU@EXAMPLE.JP --name NAME "
                       "--role platform_admin")


def _migrate() -> int:
    from hubcore.migrations import migrate as run

    applied = run(get_host())
    for a in applied:
        click.echo(f"  {a.plugin} → {a.version}  {a.description}")
    return len(applied)


@cli.command()
def migrate() -> None:
    """Apply the core's and every plugin's pending migrations (safe to run again)."""
    _connect()
    n = _migrate()
    click.echo(f"{n} migration step(s) applied" if n else "schema is up to date")


@cli.command()
def demo() -> None:
    """Load a realistic demo municipality with two hubs and about 60 people (once)."""
    from hubcore.demo import load_demo

    _connect()
    _migrate()
    try:
        summary = load_demo()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="Worker processes (use PostgreSQL for more than one).")
@click.option("--demo", "with_demo", is_flag=True,
              help="Initialise the instance and load demo data first (if not loaded yet).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, with_demo: bool, reload: bool) -> None:
    """Serve the web UI and API with uvicorn."""
    import uvicorn

    inst = instance_path()
    ensure_secret_key(inst)
    _connect()
    _migrate()
    if with_demo:
        from hubcore.demo import load_demo

        click.echo(load_demo())
    if workers > 1 and not db.is_postgres():
        click.echo("note: several workers on SQLite share one writer; "
                   "use DATABASE_URL=postgresql://... to scale out", err=True)
    os.environ["HUBCORE_INSTANCE"] = str(inst)
    click.echo(f"hubcore on http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.run("hubcore.asgi:app", host=host, port=port, workers=workers, reload=reload,
                proxy_headers=True, log_level="info")


@cli.group(invoke_without_command=True)
@click.pass_context
def plugins(ctx: click.Context) -> None:
    """List installed plugins and where they are on; switch them per site."""
    if ctx.invoked_subcommand is not None:
        return
    from hubcore.sites.operations import plugin_overview

    _connect()
    for row in plugin_overview():
        meta = row["meta"]
        kind = "core" if meta.core else row["source"]
        where = ", ".join(row["sites"]) or "-"
        labels = f"{meta.label_ja} / {meta.label_en}"
        click.echo(f"{meta.name:<16} {meta.version:<8} {kind:<12} {labels}")
        click.echo(f"{'':<16} on: {where}")
        if meta.requires:
            click.echo(f"{'':<16} requires: {', '.join(meta.requires)}")


def _switch(name: str, site: str | None, municipality: str | None, enabled: bool) -> None:
    from hubcore.errors import NotFound
    from hubcore.sites import operations as ops

    if bool(site) == bool(municipality):
        raise click.UsageError("give exactly one of --site SITE or --municipality MUNICIPALITY")
    _connect()
    word = "on" if enabled else "off"
    try:
        with db.database.connection_context():
            if site:
                s = ops.get_site(site)
                changed = ops.set_site_plugin(s, name, enabled)
                note = "" if changed else " (no change)"
                click.echo(f"{name} is {word} for site {site}{note}")
            else:
                m = ops.get_municipality(municipality)
                sites = ops.set_municipality_plugin(m, name, enabled)
                extra = f"; switched {word} on: {', '.join(s.slug for s in sites)}" if sites else ""
                click.echo(f"{name} is {'allowed' if enabled else 'forbidden'} for "
                           f"municipality {municipality}{extra}")
    except NotFound as exc:
        raise click.ClickException(f"no such site or municipality: {exc}") from None
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None


@plugins.command("enable")
@click.argument("name")
@click.option("--site", help="Site slug.")
@click.option("--municipality", help="Municipality slug: allow the plugin for its sites.")
def plugins_enable(name: str, site: str | None, municipality: str | None) -> None:
    """Switch plugin NAME on for a site (or allow it for a municipality)."""
    _switch(name, site, municipality, True)


@plugins.command("disable")
@click.argument("name")
@click.option("--site", help="Site slug.")
@click.option("--municipality", help="Municipality slug: switch it off on all its sites.")
def plugins_disable(name: str, site: str | None, municipality: str | None) -> None:
    """Switch plugin NAME off (its data is kept and comes back when switched on)."""
    _switch(name, site, municipality, False)


def main() -> None:
    try:
        get_host().pm.hook.register_commands(cli=cli)
    except PluginError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    cli()


if __name__ == "__main__":
    main()
