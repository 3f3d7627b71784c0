"""``hubcore billing ...``: the monthly run, issuing, CSV exports."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from hubcore import db
from hubcore.errors import Invalid, NotFound


def _site(slug: str):
    from hubcore.sites.operations import get_site

    try:
        return get_site(slug)
    except NotFound:
        raise click.ClickException(f"no such site: {slug}") from None


def _month(value: str | None) -> str | None:
    from hubcore.billing.lines import Month

    if value is None:
        return None
    try:
        return str(Month.parse(value))
    except ValueError:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-04", param_hint="--month") from None


class _Bar:
    """A click progress bar made on the first report, when the total is known."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group()
def billing() -> None:
    """Invoices: the monthly run, issuing, CSV exports."""


@billing.command("run")
@click.option("--site", "site_slug", required=True, help="Site slug.")
@click.option("--month", required=True, help="The month to bill, YYYY-MM.")
@click.option("--batch-size", default=None, type=click.IntRange(1, 10_000),
              help="Payers written per transaction (default 100).")
def run_cmd(site_slug: str, month: str, batch_size: int | None) -> None:
    """Make or update the month's draft invoices (safe to run again, or after a kill)."""
    from hubcore.billing.run import BATCH_SIZE, run_month
    from hubcore.cli import _connect

    period = _month(month)
    _connect()
    bar = _Bar(f"billing {period}")
    with db.database.connection_context():
        site = _site(site_slug)
        try:
            result = run_month(site, period, progress=bar, batch_size=batch_size or BATCH_SIZE)
        except Invalid as exc:
            raise click.ClickException(" ".join(exc.errors.values())) from None
        finally:
            bar.close()
    click.echo(result.summary())


@billing.command("issue")
@click.option("--site", "site_slug", required=True, help="Site slug.")
@click.option("--month", default=None, help="Only invoices of this month, YYYY-MM.")
def issue_cmd(site_slug: str, month: str | None) -> None:
    """Number and issue every reviewed invoice and credit note."""
    from hubcore.billing.operations import issue_reviewed
    from hubcore.cli import _connect

    period = _month(month)
    _connect()
    bar = _Bar("issuing")
    with db.database.connection_context():
        site = _site(site_slug)
        try:
            issued = issue_reviewed(site, period, progress=bar)
        finally:
            bar.close()
    if issued:
        click.echo(f"{len(issued)} issued: {issued[0].number} … {issued[-1].number}")
    else:
        click.echo("nothing to issue (review the drafts first)")


@billing.command("export")
@click.argument("what", type=click.Choice(["invoices", "payments"]))
@click.option("--site", "site_slug", required=True, help="Site slug.")
@click.option("--month", default=None, help="Invoices of this month / payments received in it.")
@click.option("--encoding", default="utf-8-sig", show_default=True,
              type=click.Choice(["utf-8-sig", "cp932"]),
              help="utf-8-sig (UTF-8 with BOM) opens in any Excel; cp932 is Shift_JIS.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
def export_cmd(what: str, site_slug: str, month: str | None, encoding: str,
               output: Path | None) -> None:
    """Write invoices or payments as CSV for Excel."""
    from hubcore.billing import export
    from hubcore.billing.lines import Month
    from hubcore.cli import _connect

    period = _month(month)
    _connect()
    with db.database.connection_context():
        site = _site(site_slug)
        try:
            if what == "invoices":
                data = export.export_invoices(site, period, encoding)
            else:
                m = Month.parse(period) if period else None
                since: dt.date | None = m.first_day if m else None
                data = export.export_payments(site, since, m.last_day if m else None, encoding)
        except export.ExportEncodingError as exc:
            raise click.ClickException(str(exc)) from None
    if output is None:
        click.get_binary_stream("stdout").write(data)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)
