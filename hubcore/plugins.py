"""The plugin manager: entry-point discovery, plugin metadata, per-site relays."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import pluggy

from hubcore import hookspecs

ENTRY_POINT_GROUP = "hubcore"


@dataclass(frozen=True)
class PluginMeta:
    """What a plugin module says about itself, as ``PLUGIN = PluginMeta(...)``."""

    name: str
    label_ja: str
    label_en: str
    version: str = "0.1.0"
    requires: tuple[str, ...] = ()
    description: str = ""
    colour: str = "#6b7280"
    # Core areas are never switched off and never removed from a site's relay.
    core: bool = False
    # Where its routes are mounted inside /s/{site}: "/<name>" unless set ("" = site root).
    url_prefix: str | None = None

    @property
    def mount_path(self) -> str:
        return f"/{self.name}" if self.url_prefix is None else self.url_prefix

    def __post_init__(self) -> None:
        # The colour goes into generated CSS: accept a hex colour and nothing else.
        if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", self.colour):
            raise PluginError(f"plugin {self.name!r}: colour must be #rgb or #rrggbb")

    def label(self, lang: str) -> str:
        return self.label_ja if lang == "ja" else self.label_en


class PluginError(Exception):
    """A plugin cannot be loaded or switched as asked; the message says why."""


@dataclass
class LoadedPlugin:
    meta: PluginMeta
    module: ModuleType
    source: str  # "entry point" or "registered" (tests, examples)
    # The package folder; None for a plugin object made in code (tests, scripts).
    path: Path | None = field(init=False)

    def __post_init__(self) -> None:
        file = getattr(self.module, "__file__", None)
        self.path = Path(file).parent if file else None

    def _dir(self, name: str) -> Path | None:
        d = self.path / name if self.path else None
        return d if d is not None and d.is_dir() else None

    @property
    def templates_dir(self) -> Path | None:
        return self._dir("templates")

    @property
    def static_dir(self) -> Path | None:
        return self._dir("static")

    @property
    def locale_dir(self) -> Path | None:
        return self._dir("locale")


class SiteHooks:
    """A relay over the plugin manager that leaves out plugins off for a site.

    Each hook is a ``pm.subset_hook_caller`` (how pytest scopes conftest hooks),
    built on first use and kept with the relay.
    """

    def __init__(self, pm: pluggy.PluginManager, removed: list[object]):
        self._pm = pm
        self._removed = removed

    def __getattr__(self, name: str):
        if name not in hookspecs.SITE_HOOKS:
            raise AttributeError(f"{name} is not a site hook")
        caller = self._pm.subset_hook_caller(name, self._removed)
        setattr(self, name, caller)
        return caller


class PluginHost:
    """The one plugin manager of the process and what it knows of each plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("hubcore")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, LoadedPlugin] = {}
        self._relays: dict[frozenset[str], SiteHooks] = {}
        self._lock = threading.Lock()
        self.generation = 0  # bumped on every register/unregister

    # -- loading -------------------------------------------------------------

    def load_entry_points(self) -> None:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                module = ep.load()
            except Exception as exc:  # a broken third-party plugin must say which one
                raise PluginError(f"plugin entry point {ep.name!r} failed to load: {exc}") from exc
            if getattr(module, "PLUGIN", None) is None:
                raise PluginError(f"plugin entry point {ep.name!r} has no PLUGIN = PluginMeta(...)")
            known = self.plugins.get(module.PLUGIN.name)
            if known is not None and known.module is module:
                continue  # the same distribution listed twice (e.g. editable + egg-info)
            self.register(module, source="entry point")

    def register(self, module: ModuleType, source: str = "registered") -> PluginMeta:
        meta = getattr(module, "PLUGIN", None)
        if not isinstance(meta, PluginMeta):
            raise PluginError(f"{module.__name__} has no PLUGIN = PluginMeta(...)")
        if not meta.name.isidentifier() or meta.name != meta.name.lower():
            raise PluginError(f"plugin name {meta.name!r} must be a lower-case identifier")
        if meta.name in self.plugins:
            raise PluginError(f"two plugins are named {meta.name!r}")
        self.pm.register(module, name=meta.name)
        self.plugins[meta.name] = LoadedPlugin(meta, module, source)
        self._changed()
        return meta

    def unregister(self, name: str) -> None:
        loaded = self.plugins.pop(name)
        self.pm.unregister(loaded.module)
        self._changed()

    def _changed(self) -> None:
        with self._lock:
            self._relays.clear()
            self.generation += 1

    # -- queries -------------------------------------------------------------

    def meta(self, name: str) -> PluginMeta:
        try:
            return self.plugins[name].meta
        except KeyError:
            raise PluginError(f"no plugin named {name!r} is installed") from None

    def optional_names(self) -> list[str]:
        """Plugins a municipality may switch on or off (every non-core one)."""
        return sorted(n for n, p in self.plugins.items() if not p.meta.core)

    def ordered(self) -> list[LoadedPlugin]:
        """Core areas first, then plugins so that requirements come before dependants."""
        done: dict[str, LoadedPlugin] = {}

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in done:
                return
            if name in trail:
                raise PluginError(f"plugins require each other in a circle: {' → '.join(trail)}")
            p = self.plugins.get(name)
            if p is None:
                raise PluginError(f"plugin {trail[-1]!r} requires {name!r}, which is not installed")
            for req in p.meta.requires:
                visit(req, (*trail, name))
            done[name] = p

        for name in sorted(self.plugins, key=lambda n: (not self.plugins[n].meta.core, n)):
            visit(name, ())
        return list(done.values())

    def relay(self, enabled: frozenset[str]) -> SiteHooks:
        """The hook relay for a site where the optional plugins ``enabled`` are on.

        Keyed by the enabled set, not by site: it needs no invalidation when another
        worker process switches a plugin, and sites with the same plugins share one.
        """
        relay = self._relays.get(enabled)
        if relay is None:
            removed = [
                p.module for n, p in self.plugins.items() if not p.meta.core and n not in enabled
            ]
            relay = SiteHooks(self.pm, removed)
            with self._lock:
                self._relays[enabled] = relay
        return relay

    def only(self, name: str) -> SiteHooks:
        """A relay that reaches one plugin alone (for plugin_enabled/plugin_disabled)."""
        removed = [p.module for n, p in self.plugins.items() if n != name]
        return SiteHooks(self.pm, removed)


_host: PluginHost | None = None
_host_lock = threading.Lock()


def get_host() -> PluginHost:
    """The process's plugin host, loading every installed plugin on first use."""
    global _host
    if _host is None:
        with _host_lock:
            if _host is None:
                host = PluginHost()
                host.load_entry_points()
                _host = host
    return _host
