"""``hubcore calendar …``: the horizon job, ICS import and feed tokens."""

from __future__ import annotations

from pathlib import Path

import click

from hubcore import db


def _site(slug: str):
    from hubcore.errors import NotFound
    from hubcore.sites.operations import get_site

    try:
        return get_site(slug)
    except NotFound:
        raise click.ClickException(f"no such site: {slug}") from None


@click.group()
def calendar() -> None:
    """Bookings: extend open-ended series, import ICS files, manage feed URLs."""


@calendar.command()
def extend() -> None:
    """Give open-ended series occurrence rows up to 18 months ahead (run daily; safe
    to run again: a second run on the same day adds nothing)."""
    from hubcore.calendar.operations import extend_series
    from hubcore.cli import _connect

    _connect()
    with db.database.connection_context():
        results = extend_series()
    added = sum(r.added for r in results)
    for r in results:
        if r.skipped:
            days = ", ".join(d.isoformat() for d in r.skipped)
            click.echo(f"booking {r.booking_id}: skipped (room taken or closed): {days}")
    click.echo(f"{len(results)} series extended, {added} occurrence(s) added")


@calendar.command("import")
@click.argument("site")
@click.argument("room_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Book the events (default: only show the preview).")
@click.option("--skip-conflicts", is_flag=True, help="Leave out dates where the room is taken.")
@click.option("--skip-closed", is_flag=True, help="Leave out closed days and holidays.")
@click.option("--override", is_flag=True, help="Book outside opening hours (site managers).")
def import_(site: str, room_id: int, file: Path, commit: bool, skip_conflicts: bool,
            skip_closed: bool, override: bool) -> None:
    """Import an ICS FILE into room ROOM_ID of SITE: preview, then --commit."""
    from hubcore.calendar import ics
    from hubcore.calendar.operations import BookingConflict
    from hubcore.cli import _connect
    from hubcore.errors import Invalid, NotFound
    from hubcore.rooms.operations import get_room

    _connect()
    data = file.read_bytes()
    with db.database.connection_context():
        s = _site(site)
        try:
            room = get_room(s, room_id)
            if not commit:
                preview = ics.preview_import(s, room, data)
                for item in preview.items:
                    note = ""
                    if item.conflicts:
                        note += f"  {len(item.conflicts)} conflict(s)"
                    if item.closed:
                        note += f"  {len(item.closed)} on closed days"
                    click.echo(f"{item.status:<9} {item.start:%Y-%m-%d %H:%M} {item.title} "
                               f"({item.occurrences}×){note}")
                click.echo(f"{len(preview.new)} event(s), {preview.total_occurrences} "
                           "occurrence(s) to book; rerun with --commit")
                return
            created = ics.commit_import(s, room, data, skip_conflicts=skip_conflicts,
                                        skip_closed=skip_closed, override=override)
        except NotFound:
            raise click.ClickException(f"no room {room_id} at {site}") from None
        except BookingConflict as exc:
            raise click.ClickException(f"{exc} (nothing imported; see the preview)") from None
        except Invalid as exc:
            raise click.ClickException("; ".join(exc.errors.values())) from None
    click.echo(f"{len(created)} booking(s) imported")


@calendar.command("feed-create")
@click.argument("site")
@click.option("--room", "room_id", type=int, help="A feed of one room.")
@click.option("--person", "person_id", type=int, help="A feed of what a person organises.")
@click.option("--label", default="")
def feed_create(site: str, room_id: int | None, person_id: int | None, label: str) -> None:
    """Create a secret ICS feed of SITE (or one room / person) and print its token once."""
    from hubcore.calendar import ics
    from hubcore.cli import _connect
    from hubcore.errors import NotFound

    if room_id and person_id:
        raise click.UsageError("give --room or --person, not both")
    _connect()
    with db.database.connection_context():
        s = _site(site)
        kind, target = ("room", room_id) if room_id else \
            ("person", person_id) if person_id else ("site", None)
        try:
            feed, token = ics.create_feed(s, kind, target, label)
        except NotFound:
            raise click.ClickException(f"no {kind} {target} at {site}") from None
    click.echo(f"feed {feed.id} ({kind}); token (shown once): {token}")


@calendar.command("feed-revoke")
@click.argument("site")
@click.argument("feed_id", type=int)
def feed_revoke(site: str, feed_id: int) -> None:
    """Revoke feed FEED_ID of SITE: its URL stops working."""
    from hubcore.calendar import ics
    from hubcore.cli import _connect
    from hubcore.errors import NotFound

    _connect()
    with db.database.connection_context():
        try:
            ics.revoke_feed(_site(site), feed_id)
        except NotFound:
            raise click.ClickException(f"no feed {feed_id} at {site}") from None
    click.echo(f"feed {feed_id} revoked")
