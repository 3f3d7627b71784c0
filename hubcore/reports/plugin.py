"""The core's cross-program reports, written as a built-in plugin."""

from __future__ import annotations

from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="reports",
    label_ja="報告",
    label_en="Reports",
    requires=("people",),
    description="Cross-program figures per site, municipality and platform; KPI sheets.",
    core=True,
)
