"""The core's people and households area, written as a built-in plugin."""

from __future__ import annotations

from hubcore.hookspecs import hookimpl
from hubcore.migrations import Migrations, create_tables
from hubcore.people import models
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="people",
    label_ja="利用者・世帯",
    label_en="People and households",
    requires=("sites",),
    description="People (氏名, フリガナ, birth date, contacts) and the households that pay.",
    core=True,
)


@hookimpl
def register_models():
    return models.MODELS


@hookimpl
def register_migrations():
    return Migrations("people", [create_tables(*models.MODELS)])
