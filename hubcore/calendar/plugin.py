"""The core's calendar area, written as a built-in plugin."""

from __future__ import annotations

from hubcore.calendar import models
from hubcore.hookspecs import hookimpl
from hubcore.migrations import Migrations, create_tables
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="calendar",
    label_ja="カレンダー",
    label_en="Calendar",
    requires=("rooms",),
    description="Bookings of rooms by every program, recurring series, holidays, ICS.",
    core=True,
)


@hookimpl
def register_models():
    return models.MODELS


@hookimpl
def register_migrations():
    return Migrations("calendar", [create_tables(*models.MODELS)])


@hookimpl
def register_commands(cli):
    from hubcore.calendar.cli import calendar

    cli.add_command(calendar)


@hookimpl
def load_demo_data(site, people):
    from hubcore.calendar.demo import load

    load(site, people)
