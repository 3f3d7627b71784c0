"""``hubcore reports …``: rebuild the visit rollups, print or export a report."""

from __future__ import annotations

from pathlib import Path

import click

from hubcore import db


@click.group()
def reports() -> None:
    """Cross-program reports: rebuild the visit rollups, export a report as CSV."""


@reports.command()
@click.option("--site", "slug", default=None, help="Only this site (default: every site).")
def rebuild(slug: str | None) -> None:
    """Recompute the visit rollups from the recorded visits (safe to run again; the
    reports read the rollups, so run it if they are ever in doubt)."""
    from hubcore.cli import _connect
    from hubcore.errors import NotFound
    from hubcore.reports.visits import rebuild as run
    from hubcore.sites.operations import get_site

    _connect()
    with db.database.connection_context():
        try:
            site = get_site(slug) if slug else None
        except NotFound:
            raise click.ClickException(f"no such site: {slug}") from None
        n = run(site)
    click.echo(f"rollups rebuilt from {n} visit(s)")


@reports.command()
@click.argument("municipality")
@click.argument("period")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the CSV here (default: standard output).")
def export(municipality: str, period: str, output: Path | None) -> None:
    """Export MUNICIPALITY's report for PERIOD (2026-05 or FY2026) as CSV (UTF-8, BOM)."""
    from hubcore.billing.export import iter_csv
    from hubcore.cli import _connect
    from hubcore.errors import NotFound
    from hubcore.reports import pages
    from hubcore.reports.metrics import Period
    from hubcore.reports.operations import municipal_report
    from hubcore.sites.operations import get_municipality

    try:
        chosen = Period.parse(period)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _connect()
    with db.database.connection_context():
        try:
            m = get_municipality(municipality)
        except NotFound:
            raise click.ClickException(f"no such municipality: {municipality}") from None
        data = b"".join(iter_csv(pages.csv_header(), pages.csv_rows(municipal_report(m, chosen))))
    if output is None:
        click.echo(data.decode("utf-8-sig"), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}")
