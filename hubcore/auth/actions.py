"""Roles and actions: what each role may do, declared by the core and by plugins.

A role is held at a scope: the platform, one municipality, or one site. An action
is a named permission with the roles that get it. Plugins add actions through the
``register_actions`` hook; nothing else grants anything.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hubcore.i18n import N_, gettext
from hubcore.plugins import PluginError, get_host

PLATFORM_ADMIN = "platform_admin"
MUNICIPALITY_ADMIN = "municipality_admin"
SITE_MANAGER = "site_manager"
STAFF = "staff"
VIEWER = "viewer"

# In order of power; the scope each role is held at.
ROLES: dict[str, str] = {
    PLATFORM_ADMIN: "platform",
    MUNICIPALITY_ADMIN: "municipality",
    SITE_MANAGER: "site",
    STAFF: "site",
    VIEWER: "site",
}
ROLE_LABELS = {
    PLATFORM_ADMIN: N_("Platform administrator"),
    MUNICIPALITY_ADMIN: N_("Municipality administrator"),
    SITE_MANAGER: N_("Site manager"),
    STAFF: N_("Staff"),
    VIEWER: N_("Viewer"),
}
SITE_ROLES = tuple(r for r, scope in ROLES.items() if scope == "site")


def role_label(role: str) -> str:
    return gettext(ROLE_LABELS.get(role, role))


@dataclass(frozen=True)
class Action:
    """A permission. ``scope`` says where it is checked: on a site (site roles, the
    site's municipality admins and platform admins count), on a municipality
    (its admins and platform admins), or on the platform as a whole."""

    name: str
    label: str  # an English msgid; shown translated
    roles: tuple[str, ...]
    scope: str = "site"
    sensitive: bool = False  # reads 要配慮個人情報: every read is logged

    def __post_init__(self) -> None:
        if self.scope not in ("site", "municipality", "platform"):
            raise PluginError(f"action {self.name!r}: scope must be 'site', 'municipality' "
                              "or 'platform'")
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise PluginError(f"action {self.name!r}: unknown roles {sorted(unknown)}")


_ALL = tuple(ROLES)
_MANAGERS = (PLATFORM_ADMIN, MUNICIPALITY_ADMIN, SITE_MANAGER)

# The core's own actions. Platform and municipality administrators run the
# platform and switch programs on; they do not read residents' records unless
# they also hold a role at the site (least privilege for 要配慮個人情報).
CORE_ACTIONS = (
    Action("site.view", N_("See the site and its dashboard"), _ALL),
    Action("rooms.view", N_("See rooms"), _ALL),
    Action("rooms.manage", N_("Add, change and retire rooms"), _MANAGERS),
    Action("people.view", N_("See people and households"), (SITE_MANAGER, STAFF, VIEWER)),
    Action("people.edit", N_("Register and change people and households"),
           (SITE_MANAGER, STAFF)),
    Action("plugins.manage", N_("Switch programs on and off"),
           (PLATFORM_ADMIN, MUNICIPALITY_ADMIN), scope="municipality"),
    Action("users.manage", N_("Manage users and their roles"),
           (PLATFORM_ADMIN, MUNICIPALITY_ADMIN), scope="municipality"),
    Action("audit.view", N_("Read the municipality's audit log"),
           (PLATFORM_ADMIN, MUNICIPALITY_ADMIN), scope="municipality"),
    Action("platform.audit", N_("Read the whole platform's audit log"), (PLATFORM_ADMIN,),
           scope="platform"),
)


@functools.lru_cache(maxsize=4)
def _registry(generation: int) -> dict[str, Action]:
    found: dict[str, Action] = {}  # the core's own come from the auth plugin's hookimpl
    host = get_host()
    for impl in host.pm.hook.register_actions.get_hookimpls():
        for action in impl.function() or ():
            if action.name in found:
                raise PluginError(f"action {action.name!r} is declared twice "
                                  f"(again by {impl.plugin_name!r})")
            found[action.name] = action
    return found


def actions() -> dict[str, Action]:
    """Every action the core and the installed plugins declare, by name."""
    return _registry(get_host().generation)


def get_action(name: str) -> Action:
    try:
        return actions()[name]
    except KeyError:
        raise PluginError(f"no action {name!r} is declared (register_actions)") from None
