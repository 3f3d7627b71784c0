"""Per-plugin schema versions and the migration runner behind ``hubcore migrate``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import peewee
from playhouse.migrate import SchemaMigrator

from hubcore.db import BaseModel, database
from hubcore.plugins import PluginHost

Step = Callable[[peewee.Database, SchemaMigrator], None]


@dataclass(frozen=True)
class Migrations:
    """A plugin's migrations: ``steps[i]`` brings its schema to version ``i + 1``."""

    plugin: str
    steps: Sequence[Step]


def create_tables(*models: type[BaseModel]) -> Step:
    """A step that creates tables (and their indexes) as the models define them now.

    Use it for a plugin's first version. Since it creates today's columns on a fresh
    install, later column steps must tolerate finding theirs already there: use
    ``add_column`` below, which does.
    """

    def step(db: peewee.Database, migrator: SchemaMigrator) -> None:
        db.create_tables(models, safe=True)

    step.__doc__ = "create " + ", ".join(m._meta.table_name for m in models)
    return step


def add_column(table: str, name: str, field: peewee.Field) -> Step:
    """A step that adds a column unless the table has it already (a fresh install)."""

    def step(db: peewee.Database, migrator: SchemaMigrator) -> None:
        from playhouse.migrate import migrate as run

        if name not in {c.name for c in db.get_columns(table)}:
            run(migrator.add_column(table, name, field))

    step.__doc__ = f"add {table}.{name}"
    return step


def table_hooks(plugin: str, models: Sequence[type[BaseModel]], *later: Step):
    """The two hookimpls most plugins write: its models, and migrations whose first step
    creates their tables (``later`` steps follow). In a plugin module::

        register_models, register_migrations = table_hooks("meals", MODELS)
    """
    from hubcore.hookspecs import hookimpl

    @hookimpl
    def register_models():
        return list(models)

    @hookimpl
    def register_migrations():
        return Migrations(plugin, [create_tables(*models), *later])

    return register_models, register_migrations


class SchemaVersion(BaseModel):
    plugin = peewee.CharField(primary_key=True, max_length=100)
    version = peewee.IntegerField()

    class Meta:
        table_name = "schema_version"


@dataclass
class Applied:
    plugin: str
    version: int
    description: str


def collect(host: PluginHost) -> list[Migrations]:
    found: dict[str, Migrations] = {}
    for result in host.pm.hook.register_migrations():
        if result is None:
            continue
        if result.plugin not in host.plugins:
            raise ValueError(f"migrations for unknown plugin {result.plugin!r}")
        found[result.plugin] = result
    return [found[p.meta.name] for p in host.ordered() if p.meta.name in found]


def current_versions() -> dict[str, int]:
    database.create_tables([SchemaVersion], safe=True)
    return {row.plugin: row.version for row in SchemaVersion.select()}


def pending(host: PluginHost) -> list[tuple[str, int, Step]]:
    versions = current_versions()
    todo = []
    for mig in collect(host):
        have = versions.get(mig.plugin, 0)
        for i, step in enumerate(mig.steps[have:], start=have + 1):
            todo.append((mig.plugin, i, step))
    return todo


def migrate(host: PluginHost) -> list[Applied]:
    """Apply every pending step, each with its version bump in one transaction.

    Killed half way, a rerun starts at the first step not recorded; run twice, the
    second run applies nothing.
    """
    applied = []
    with database.connection_context():
        migrator = SchemaMigrator.from_database(database.obj)
        for plugin, version, step in pending(host):
            with database.atomic():
                step(database.obj, migrator)
                SchemaVersion.insert(plugin=plugin, version=version).on_conflict(
                    conflict_target=[SchemaVersion.plugin],
                    update={SchemaVersion.version: version},
                ).execute()
            applied.append(Applied(plugin, version, (step.__doc__ or "").strip()))
    return applied
