"""Municipalities, their sites, and which plugins are switched on where."""

from __future__ import annotations

import peewee

from hubcore.db import BaseModel, utcnow


class Municipality(BaseModel):
    slug = peewee.CharField(max_length=64, unique=True)
    name = peewee.CharField(max_length=100)  # 自治体名, e.g. 山ノ内町
    name_kana = peewee.CharField(max_length=200, default="")
    prefecture = peewee.CharField(max_length=10, default="")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "municipality"


class Site(BaseModel):
    municipality = peewee.ForeignKeyField(Municipality, backref="sites", on_delete="RESTRICT")
    slug = peewee.CharField(max_length=64, unique=True)
    name = peewee.CharField(max_length=100)
    name_kana = peewee.CharField(max_length=200, default="")
    address = peewee.CharField(max_length=300, default="")
    description = peewee.TextField(default="")
    timezone = peewee.CharField(max_length=64, default="Asia/Tokyo")
    theme = peewee.CharField(max_length=64, default="default")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "site"

    # The relay, built on first use of `hooks`; reset when this site's plugins change.
    _hooks = None
    _enabled: frozenset[str] | None = None  # see operations.enabled_plugins

    @property
    def hooks(self):
        """This site's hook relay: only plugins enabled here take part."""
        if self._hooks is None:
            from hubcore.sites.operations import site_relay

            self._hooks = site_relay(self)
        return self._hooks


class MunicipalityPlugin(BaseModel):
    """A municipality allows a plugin for its sites (or has switched it off again)."""

    municipality = peewee.ForeignKeyField(Municipality, on_delete="CASCADE")
    plugin = peewee.CharField(max_length=100)
    enabled = peewee.BooleanField(default=True)
    changed_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "municipality_plugin"
        indexes = ((("municipality", "plugin"), True),)


class SitePlugin(BaseModel):
    """A plugin switched on (or off again) for one site. Rows are never deleted."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    plugin = peewee.CharField(max_length=100)
    enabled = peewee.BooleanField(default=True)
    changed_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "site_plugin"
        indexes = ((("site", "plugin"), True),)


MODELS = [Municipality, Site, MunicipalityPlugin, SitePlugin]
