"""The core's audit log, written as a built-in plugin."""

from __future__ import annotations

from hubcore.audit import models
from hubcore.hookspecs import hookimpl
from hubcore.migrations import Migrations, create_tables
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="audit",
    label_ja="監査ログ",
    label_en="Audit log",
    requires=("auth",),
    description="Who did what: log-ins, role changes, plugin switches, sensitive reads.",
    core=True,
)


@hookimpl
def register_models():
    return models.MODELS


@hookimpl
def register_migrations():
    return Migrations("audit", [create_tables(*models.MODELS)])
