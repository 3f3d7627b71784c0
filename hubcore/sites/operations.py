"""Sites, municipalities and plugin enablement: plain functions over the models."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hubcore.audit.operations import record
from hubcore.db import database, write_transaction
from hubcore.errors import NotFound
from hubcore.plugins import PluginError, SiteHooks, get_host
from hubcore.sites.models import Municipality, MunicipalityPlugin, Site, SitePlugin


def site_today(site: Site) -> dt.date:
    """Today where the site is (a UTC server's date would turn at 09:00 in Japan)."""
    return dt.datetime.now(ZoneInfo(site.timezone or "Asia/Tokyo")).date()


def get_site(slug: str) -> Site:
    site = Site.select(Site, Municipality).join(Municipality).where(Site.slug == slug).first()
    if site is None:
        raise NotFound(slug)
    return site


def get_municipality(slug: str) -> Municipality:
    m = Municipality.get_or_none(Municipality.slug == slug)
    if m is None:
        raise NotFound(slug)
    return m


def list_municipalities(visible_to=None) -> list[Municipality]:
    """Municipalities; with ``visible_to`` (a Principal) only those the user may see."""
    q = Municipality.select()
    if visible_to is not None:
        clause = visible_to.municipality_filter()
        if clause is not None:
            q = q.where(clause)
    return list(q.order_by(Municipality.name_kana, Municipality.id))


def list_sites(municipality: Municipality | None = None, only=None,
               visible_to=None) -> list[Site]:
    """Sites (of a municipality), with the municipality loaded; ``only``: a subquery of ids;
    ``visible_to``: a Principal whose sites only are listed."""
    q = Site.select(Site, Municipality).join(Municipality)
    if municipality is not None:
        q = q.where(Site.municipality == municipality)
    if only is not None:
        q = q.where(Site.id.in_(only))
    if visible_to is not None:
        clause = visible_to.site_filter()
        if clause is not None:
            q = q.where(clause)
    return list(q.order_by(Municipality.name_kana, Site.name_kana, Site.id))


def enabled_plugins(site: Site, fresh: bool = False) -> frozenset[str]:
    """Optional plugins on for ``site``: on for the site and for its municipality.

    Kept on the Site object, which lives for one request; writes ask ``fresh``.
    """
    if site._enabled is not None and not fresh:
        return site._enabled
    installed = set(get_host().optional_names())
    rows = (
        SitePlugin.select(SitePlugin.plugin)
        .join(
            MunicipalityPlugin,
            on=(
                (MunicipalityPlugin.plugin == SitePlugin.plugin)
                & (MunicipalityPlugin.municipality == site.municipality_id)
            ),
        )
        .where(
            (SitePlugin.site == site.id) & SitePlugin.enabled & MunicipalityPlugin.enabled
        )
        .tuples()
    )
    site._enabled = frozenset(p for (p,) in rows if p in installed)
    return site._enabled


def site_relay(site: Site) -> SiteHooks:
    return get_host().relay(enabled_plugins(site))


def is_enabled(site: Site, plugin: str) -> bool:
    """Whether ``plugin`` is on for ``site`` now (reads the database, refreshing the cache)."""
    meta = get_host().meta(plugin)
    return meta.core or plugin in enabled_plugins(site, fresh=True)


def allowed_for_municipality(municipality: Municipality) -> frozenset[str]:
    rows = MunicipalityPlugin.select(MunicipalityPlugin.plugin).where(
        (MunicipalityPlugin.municipality == municipality) & MunicipalityPlugin.enabled
    )
    return frozenset(r.plugin for r in rows)


def _optional(plugin: str):
    meta = get_host().meta(plugin)
    if meta.core:
        raise PluginError(f"{plugin!r} is part of the core and cannot be switched")
    return meta


def _upsert(model, keys: dict, enabled: bool) -> None:
    now = dt.datetime.now(dt.UTC)
    row = model.get_or_none(*[getattr(model, k) == v for k, v in keys.items()])
    if row is None:
        model.create(**keys, enabled=enabled, changed_at=now)
    elif row.enabled != enabled:
        row.enabled = enabled
        row.changed_at = now
        row.save()


def set_municipality_plugin(municipality: Municipality, plugin: str, enabled: bool) -> list[Site]:
    """Allow or forbid a plugin for a whole municipality.

    Forbidding it switches it off on every site of the municipality at once (their
    site rows are kept, so allowing it again brings those sites back as they were).
    Returns the sites whose effective state changed.
    """
    meta = _optional(plugin)
    with write_transaction():
        allowed = allowed_for_municipality(municipality)
        if enabled:
            _check_requirements_allowed(meta.requires, allowed)
        else:
            _check_no_dependants(plugin, allowed, "municipality")
        _upsert(MunicipalityPlugin, {"municipality": municipality, "plugin": plugin}, enabled)
        if (plugin in allowed) == enabled:
            return []
        # The municipality's switch flips exactly the sites that have the plugin on.
        switched_on = SitePlugin.select(SitePlugin.site).where(
            (SitePlugin.plugin == plugin) & SitePlugin.enabled)
        changed = list_sites(municipality, only=switched_on)
        for s in changed:
            _notify(s, plugin, enabled)
        record("plugin_allowed" if enabled else "plugin_forbidden", municipality=municipality,
               detail={"plugin": plugin, "sites": [s.slug for s in changed]})
    return changed


def set_site_plugin(site: Site, plugin: str, enabled: bool) -> bool:
    """Switch a plugin on or off for one site. Returns whether anything changed.

    Never deletes data: switching off hides the plugin, switching on shows its data again.
    """
    meta = _optional(plugin)
    with write_transaction():
        was = plugin in enabled_plugins(site, fresh=True)
        if enabled:
            if plugin not in allowed_for_municipality(site.municipality):
                raise PluginError(
                    f"{plugin!r} is not enabled for the municipality {site.municipality.slug!r}; "
                    f"first: hubcore plugins enable {plugin} --municipality "
                    f"{site.municipality.slug}"
                )
            missing = [r for r in meta.requires if not is_enabled(site, r)]
            if missing:
                raise PluginError(f"{plugin!r} requires {', '.join(missing)} on this site first")
        else:
            _check_no_dependants(plugin, enabled_plugins(site), "site")
        _upsert(SitePlugin, {"site": site, "plugin": plugin}, enabled)
        site._hooks = None
        now = plugin in enabled_plugins(site, fresh=True)
        if now != was:
            _notify(site, plugin, now)
            record("plugin_enabled" if now else "plugin_disabled", site=site,
                   detail={"plugin": plugin})
    return now != was


def _check_requirements_allowed(requires, allowed: frozenset[str]) -> None:
    host = get_host()
    missing = [r for r in requires if not host.meta(r).core and r not in allowed]
    if missing:
        raise PluginError(f"requires {', '.join(missing)} for the municipality first")


def _check_no_dependants(plugin: str, active: frozenset[str], where: str) -> None:
    host = get_host()
    dependants = sorted(n for n in active if plugin in host.meta(n).requires)
    if dependants:
        raise PluginError(f"{', '.join(dependants)} requires {plugin!r}: switch it off on this "
                          f"{where} first")


def _notify(site: Site, plugin: str, enabled: bool) -> None:
    relay = get_host().only(plugin)
    if enabled:
        relay.plugin_enabled(site=site)
    else:
        relay.plugin_disabled(site=site)


def plugin_overview() -> list[dict]:
    """Every installed plugin with the sites where it is on (for `hubcore plugins`)."""
    host = get_host()
    with database.connection_context():
        sites = list_sites()
        on = {s.id: enabled_plugins(s) for s in sites}
    out = []
    for p in host.ordered():
        names = [s.slug for s in sites if p.meta.core or p.meta.name in on[s.id]]
        out.append({"meta": p.meta, "source": p.source, "sites": names})
    return out
