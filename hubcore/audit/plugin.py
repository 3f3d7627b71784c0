"""The core's audit log, written as a built-in plugin."""

from __future__ import annotations

from hubcore.audit import models
from hubcore.migrations import table_hooks
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="audit",
    label_ja="監査ログ",
    label_en="Audit log",
    requires=("auth",),
    description="Who did what: log-ins, role changes, plugin switches, sensitive reads.",
    core=True,
)


register_models, register_migrations = table_hooks("audit", models.MODELS)
