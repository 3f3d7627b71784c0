"""The core's accounts area, written as a built-in plugin: users, roles, log-in, tokens."""

from __future__ import annotations

from hubcore.auth import models
from hubcore.hookspecs import hookimpl
from hubcore.migrations import table_hooks
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="auth",
    label_ja="アカウント",
    label_en="Accounts",
    requires=("sites",),
    description="Users, roles, permissions, log-in, API tokens.",
    core=True,
)


register_models, register_migrations = table_hooks("auth", models.MODELS)


@hookimpl
def register_actions():
    from hubcore.auth.actions import CORE_ACTIONS

    return list(CORE_ACTIONS)


@hookimpl
def register_commands(cli):
    from hubcore.auth.commands import user

    cli.add_command(user)
