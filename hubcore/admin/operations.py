"""Municipality administration as plain functions: the programs grid and its switches,
the users holding roles in the municipality. The real changes (and their audit events)
happen in hubcore.sites.operations and hubcore.auth.operations; this module scopes them
to one municipality and says in the user's language why a change was refused."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from hubcore import i18n
from hubcore.auth import operations as auth_ops
from hubcore.auth.actions import MUNICIPALITY_ADMIN, PLATFORM_ADMIN, ROLES, SITE_ROLES, role_label
from hubcore.auth.models import RoleGrant, User
from hubcore.auth.permissions import Principal
from hubcore.db import MAX_ID, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.i18n import gettext as _
from hubcore.i18n import ngettext
from hubcore.plugins import PluginError, PluginMeta, get_host
from hubcore.sites import operations as site_ops
from hubcore.sites.models import Municipality, Site, SitePlugin

# --- programs per site ------------------------------------------------------------------


class Refused(Exception):
    """A switch the plugin rules do not allow; ``message`` is translated. Nothing changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Cell:
    plugin: PluginMeta
    on: bool  # site: switched on and in effect; municipality row: allowed
    blocked: bool = False  # a site cell while the municipality has not allowed the plugin
    waiting: bool = False  # blocked, but switched on here: comes back once allowed


@dataclass(frozen=True)
class Row:
    site: Site | None  # None: the municipality's own row
    cells: list[Cell]

    @property
    def scope(self) -> str:
        return self.site.slug if self.site is not None else ""


@dataclass
class PluginGrid:
    municipality: Municipality
    plugins: list[PluginMeta]
    requires: dict[str, list[PluginMeta]]  # the optional plugins each one needs
    rows: list[Row] = field(default_factory=list)


def label(meta: PluginMeta) -> str:
    return meta.label(i18n.current_language.get())


def _join(names: list[str]) -> str:
    return ("、" if i18n.current_language.get() == "ja" else ", ").join(names)


def _labels(metas: list[PluginMeta]) -> str:
    return _join([f"“{label(m)}”" for m in metas])


def optional_plugins() -> list[PluginMeta]:
    """Installed plugins a municipality switches, requirements before their dependants."""
    return [p.meta for p in get_host().ordered() if not p.meta.core]


def plugin_grid(municipality: Municipality) -> PluginGrid:
    """The municipality's sites × optional plugins, with the municipality's row first."""
    host = get_host()
    plugins = optional_plugins()
    allowed = site_ops.allowed_for_municipality(municipality)
    sites = site_ops.list_sites(municipality)
    own = {(sp.site_id, sp.plugin) for sp in SitePlugin.select(SitePlugin.site, SitePlugin.plugin)
           .where(SitePlugin.site.in_([s.id for s in sites]) & SitePlugin.enabled)}
    requires = {m.name: [host.meta(r) for r in m.requires if not host.meta(r).core]
                for m in plugins}
    grid = PluginGrid(municipality, plugins, requires)
    grid.rows.append(Row(None, [Cell(m, m.name in allowed) for m in plugins]))
    for s in sites:
        on = site_ops.enabled_plugins(s, fresh=True)
        grid.rows.append(Row(s, [
            Cell(m, m.name in on, blocked=m.name not in allowed,
                 waiting=m.name not in allowed and (s.id, m.name) in own)
            for m in plugins]))
    return grid


def site_of(municipality: Municipality, slug: str) -> Site:
    """A site of this municipality by slug; NotFound for any other (never say it exists)."""
    site = Site.get_or_none((Site.slug == slug) & (Site.municipality == municipality))
    if site is None:
        raise NotFound(slug)
    site.municipality = municipality
    return site


def switchable(name: str) -> PluginMeta:
    loaded = get_host().plugins.get(name)
    if loaded is None or loaded.meta.core:
        raise Invalid({"plugin": _("Program: choose one of the listed programs.")})
    return loaded.meta


def parse_enabled(raw: str) -> bool:
    if raw in ("1", "on", "true"):
        return True
    if raw in ("0", "off", "false"):
        return False
    raise Invalid({"enabled": _("Switch: say on or off.")})


def switch_plugin(municipality: Municipality, site: Site | None, plugin: str,
                  enabled: bool) -> str:
    """Switch ``plugin`` for a site (or allow/forbid it for the municipality when ``site``
    is None). Returns what happened, translated; raises Refused (nothing changed)."""
    meta = switchable(plugin)
    try:
        if site is None:
            changed = site_ops.set_municipality_plugin(municipality, plugin, enabled)
        else:
            changed_here = site_ops.set_site_plugin(site, plugin, enabled)
    except PluginError:
        # The sites module decides; here we only say why, in the user's language.
        raise Refused(explain_refusal(municipality, site, meta, enabled)) from None
    name = label(meta)
    if site is None:
        if not enabled:
            return _("“{plugin}” is now forbidden for the municipality and off at every site. "
                     "Its data is kept.").format(plugin=name)
        if changed:
            return _("“{plugin}” is now allowed for the municipality; it is on again at: "
                     "{sites}.").format(plugin=name, sites=_join([s.name for s in changed]))
        return _("“{plugin}” is now allowed for the municipality.").format(plugin=name)
    if not changed_here:
        return _("Nothing changed: “{plugin}” was already so at {site}.").format(
            plugin=name, site=site.name)
    if enabled:
        return _("“{plugin}” is now on at {site}.").format(plugin=name, site=site.name)
    return _("“{plugin}” is now off at {site}. Its data is kept.").format(plugin=name,
                                                                         site=site.name)


def explain_refusal(municipality: Municipality, site: Site | None, meta: PluginMeta,
                    enabled: bool) -> str:
    """Why hubcore.sites.operations refused this switch, as a translated sentence."""
    host = get_host()
    allowed = site_ops.allowed_for_municipality(municipality)
    name = label(meta)
    if site is None:
        if enabled:
            missing = [host.meta(r) for r in meta.requires
                       if not host.meta(r).core and r not in allowed]
            if missing:
                return _("“{plugin}” needs {required}: allow that for the municipality first."
                         ).format(plugin=name, required=_labels(missing))
        else:
            dependants = [host.meta(n) for n in sorted(allowed)
                          if n in host.plugins and meta.name in host.meta(n).requires]
            if dependants:
                return ngettext(
                    "{dependants} needs “{plugin}”: forbid it for the municipality first.",
                    "{dependants} need “{plugin}”: forbid them for the municipality first.",
                    len(dependants)).format(dependants=_labels(dependants), plugin=name)
    elif enabled:
        if meta.name not in allowed:
            return _("“{plugin}” is not allowed for the municipality yet: a site needs the "
                     "municipality's permission first (the first row).").format(plugin=name)
        missing = [host.meta(r) for r in meta.requires if not site_ops.is_enabled(site, r)]
        if missing:
            return _("“{plugin}” needs {required} at {site}: switch that on there first."
                     ).format(plugin=name, required=_labels(missing), site=site.name)
    else:
        on = site_ops.enabled_plugins(site, fresh=True)
        dependants = [host.meta(n) for n in sorted(on) if meta.name in host.meta(n).requires]
        if dependants:
            return ngettext(
                "{dependants} needs “{plugin}” at {site}: switch it off there first.",
                "{dependants} need “{plugin}” at {site}: switch them off there first.",
                len(dependants)).format(dependants=_labels(dependants), plugin=name,
                                        site=site.name)
    return _("“{plugin}” cannot be switched like this.").format(plugin=name)


# --- users and roles -----------------------------------------------------------------------

# What a municipality may hand out: never the platform role.
ASSIGNABLE_ROLES = (MUNICIPALITY_ADMIN, *SITE_ROLES)


def role_choices() -> list[tuple[str, str]]:
    return [(r, role_label(r)) for r in ASSIGNABLE_ROLES]


def new_password() -> str:
    # 16 URL-safe characters: typed once on a tablet, then changed by its owner.
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Member:
    """A user as the municipality sees them: only the roles held here."""

    user: User
    grants: list[RoleGrant]

    @property
    def roles(self) -> list[str]:
        return [auth_ops.describe_grant(g) for g in self.grants]


def members(municipality: Municipality) -> list[Member]:
    return [Member(u, gs) for u, gs in auth_ops.users_of_municipality(municipality)]


def member(municipality: Municipality, raw_id: str) -> Member:
    """A user holding a role in the municipality; NotFound for anyone else."""
    text = str(raw_id)
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        raise NotFound(raw_id)
    grants = list(RoleGrant.select(RoleGrant, User).join(User)
                  .where((RoleGrant.user == int(text)) & (RoleGrant.municipality == municipality))
                  .order_by(RoleGrant.id))
    if not grants:
        raise NotFound(raw_id)
    return Member(grants[0].user, grants)


def role_place(municipality: Municipality, role: str, site_slug: str) -> Site | None:
    """Check a role and its site from a form: a site role needs one of this municipality's
    sites; the municipality role takes none. Raises Invalid naming the field."""
    if role not in ASSIGNABLE_ROLES:
        raise Invalid({"role": _("Role: choose one of the listed roles.")})
    if role not in SITE_ROLES:
        return None
    if not site_slug:
        raise Invalid({"site": _("Site: choose the site where this role applies.")})
    try:
        return site_of(municipality, site_slug)
    except NotFound:
        raise Invalid({"site": _("Site: choose one of this municipality's sites.")}) from None


def _grant(municipality: Municipality, user: User, role: str, site: Site | None) -> bool:
    if ROLES[role] == "municipality":
        return auth_ops.grant_role(user, role, municipality=municipality)
    return auth_ops.grant_role(user, role, site=site)


@dataclass(frozen=True)
class Added:
    user: User
    password: str | None  # set for a new account: shown once, never stored
    granted: bool  # False: the user held this role already
    reactivated: bool = False


def add_user(municipality: Municipality, email: str, name: str, role: str,
             site_slug: str) -> Added:
    """Create an account with a role here, or give an existing account the role ("invite").

    A new account gets a random password, returned once. An account that was deactivated
    (it had no role left anywhere) is active again, since it now has one.
    """
    errors: dict[str, str] = {}
    site = None
    try:
        site = role_place(municipality, role, site_slug)
    except Invalid as exc:
        errors.update(exc.errors)
    existing = auth_ops.find_user(email) if email else None
    if existing is None and not name.strip():
        errors["name"] = _("Name: enter the person's name.")
    if not email:
        errors["email"] = _("Email: enter an address like name@example.jp.")
    if errors:
        raise Invalid(errors)
    with write_transaction():
        password = None
        reactivated = False
        user = auth_ops.find_user(email)
        if user is None:
            password = new_password()
            user = auth_ops.create_user(email, name, password)
        elif not user.active:
            auth_ops.set_active(user, True)
            reactivated = True
        granted = _grant(municipality, user, role, site)
    return Added(user, password, granted, reactivated)


def grant(municipality: Municipality, target: Member, role: str, site_slug: str) -> bool:
    """Another role here for a user who holds one here already. False: held it already."""
    site = role_place(municipality, role, site_slug)
    return _grant(municipality, target.user, role, site)


def _refuse_self(principal: Principal, target: Member, field_name: str, message: str) -> None:
    if principal.user.id == target.user.id and not principal.is_platform_admin:
        raise Invalid({field_name: message})


def revoke(municipality: Municipality, principal: Principal, target: Member,
           raw_grant_id: str) -> bool:
    """Take one of the user's roles here away. Returns whether they still hold one here.
    An account left with no role anywhere is deactivated (as on removal)."""
    chosen = next((g for g in target.grants if str(g.id) == str(raw_grant_id)), None)
    if chosen is None:
        raise Invalid({"grant": _("Role: choose one of the roles listed.")})
    if chosen.role == MUNICIPALITY_ADMIN:
        _refuse_self(principal, target, "grant",
                     _("You cannot take away your own administrator role: ask another "
                       "administrator of the municipality."))
    user = target.user
    with write_transaction():
        auth_ops.revoke_role(user, chosen.role, municipality,
                             chosen.site if chosen.site_id else None)
        if not RoleGrant.select().where(RoleGrant.user == user).exists() and user.active:
            auth_ops.set_active(user, False)
    return len(target.grants) > 1


def remove(municipality: Municipality, principal: Principal, target: Member) -> int:
    """Every role of the user here, taken away (see remove_from_municipality)."""
    _refuse_self(principal, target, "remove",
                 _("You cannot remove yourself: ask another administrator of the "
                   "municipality."))
    return auth_ops.remove_from_municipality(target.user, municipality)


def may_reset_password(municipality: Municipality, principal: Principal,
                       target: Member) -> bool:
    """Whether the principal may set a new password for the user.

    Not their own (that is on the account page). And whoever knows an account's password
    has all its roles: a municipality's administrator may reset only accounts that hold
    roles in this municipality alone, never a platform administrator's.
    """
    if principal.user.id == target.user.id:
        return False
    if principal.is_platform_admin:
        return True
    return not RoleGrant.select().where(
        (RoleGrant.user == target.user)
        & ((RoleGrant.role == PLATFORM_ADMIN) | RoleGrant.municipality.is_null()
           | (RoleGrant.municipality != municipality))).exists()


def reset_password(municipality: Municipality, principal: Principal, target: Member) -> str:
    """A new random password for the user (their sessions end); returned once."""
    if not may_reset_password(municipality, principal, target):
        raise Invalid({"password": _(
            "Only a platform administrator can reset this password: the account also has "
            "roles outside this municipality, or it is your own (change yours on your "
            "account page).")})
    password = new_password()
    auth_ops.set_password(target.user, password, reset=True)
    return password
