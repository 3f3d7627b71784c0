"""Who is asking and what they may do: the one permission check every route and
operation uses.

A :class:`Principal` is a user with their role grants, loaded once per request
(from the session cookie or an API token). Seeing comes first: a site the user
holds no role for does not exist for them (404, never 403). Then actions: a role
the user holds there must grant the action, and enabled plugins may decide for
their own resources through ``permission_allowed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import peewee

from hubcore.auth.actions import MUNICIPALITY_ADMIN, PLATFORM_ADMIN, get_action
from hubcore.auth.models import ApiToken, RoleGrant, User
from hubcore.errors import NotFound
from hubcore.sites.models import Municipality, Site


class Forbidden(Exception):
    """The user may see the place but not do this there: 403."""


@dataclass(frozen=True)
class Grant:
    role: str
    municipality_id: int | None
    site_id: int | None


@dataclass
class Principal:
    user: User
    grants: tuple[Grant, ...]
    token: ApiToken | None = None  # set when the request came with an API token
    _site_roles: dict[int, frozenset[str]] = field(default_factory=dict, repr=False)

    # --- what the user may see ---------------------------------------------------

    @property
    def is_platform_admin(self) -> bool:
        return any(g.role == PLATFORM_ADMIN for g in self.grants)

    @property
    def read_only(self) -> bool:
        return self.token is not None and self.token.read_only

    def roles_at(self, site: Site) -> frozenset[str]:
        """The roles that count at ``site``: the site's own, its municipality's, the platform's."""
        if site.id in self._site_roles:
            return self._site_roles[site.id]
        if self.token is not None and self.token.site_id not in (None, site.id):
            roles: frozenset[str] = frozenset()  # a token limited to another site
        else:
            roles = frozenset(
                g.role for g in self.grants
                if g.role == PLATFORM_ADMIN
                or (g.role == MUNICIPALITY_ADMIN and g.municipality_id == site.municipality_id)
                or g.site_id == site.id
            )
        self._site_roles[site.id] = roles
        return roles

    def roles_in(self, municipality: Municipality) -> frozenset[str]:
        """Roles held for the municipality as a whole (not those held at one of its sites)."""
        if self.token is not None and self.token.site_id is not None:
            return frozenset()
        return frozenset(
            g.role for g in self.grants
            if g.role == PLATFORM_ADMIN
            or (g.role == MUNICIPALITY_ADMIN and g.municipality_id == municipality.id)
        )

    def can_see_site(self, site: Site) -> bool:
        return bool(self.roles_at(site))

    def can_see_municipality(self, municipality: Municipality) -> bool:
        if self.roles_in(municipality):
            return True
        return any(g.municipality_id == municipality.id and g.site_id is not None
                   and (self.token is None or self.token.site_id in (None, g.site_id))
                   for g in self.grants)

    def site_filter(self) -> peewee.Expression | None:
        """A WHERE clause on Site for the sites this user may see (None: all of them)."""
        clause: peewee.Expression | None = None
        if not self.is_platform_admin:
            municipalities = {g.municipality_id for g in self.grants
                              if g.role == MUNICIPALITY_ADMIN}
            sites = {g.site_id for g in self.grants if g.site_id is not None}
            clause = Site.id.in_(sorted(sites)) if sites else Site.id == 0
            if municipalities:
                clause = clause | Site.municipality.in_(sorted(municipalities))
        if self.token is not None and self.token.site_id is not None:
            limit = Site.id == self.token.site_id
            clause = limit if clause is None else (clause & limit)
        return clause

    def municipality_filter(self) -> peewee.Expression | None:
        if self.is_platform_admin and (self.token is None or self.token.site_id is None):
            return None
        ids = {g.municipality_id for g in self.grants if g.municipality_id is not None
               and (self.token is None or self.token.site_id in (None, g.site_id))}
        return Municipality.id.in_(sorted(ids)) if ids else Municipality.id == 0

    # --- what the user may do ------------------------------------------------------

    def can(self, action: str, site: Site | None = None,
            municipality: Municipality | None = None, resource: object = None) -> bool:
        """Whether the user may do ``action`` at ``site`` (or for ``municipality``)."""
        a = get_action(action)
        if a.scope == "platform":
            return self.is_platform_admin and PLATFORM_ADMIN in a.roles and (
                self.token is None or self.token.site_id is None)
        if a.scope == "municipality":
            if municipality is None:
                if site is None:
                    raise ValueError(f"{action}: give the municipality or a site of it")
                municipality = site.municipality
            return bool(self.roles_in(municipality) & set(a.roles))
        if site is None:
            raise ValueError(f"{action} is a site action: give the site")
        roles = self.roles_at(site)
        if not roles:
            return False
        allowed = bool(roles & set(a.roles))
        answers = site.hooks.permission_allowed(site=site, principal=self, action=action,
                                                resource=resource)
        if any(x is False for x in answers):
            return False
        return allowed or any(x is True for x in answers)

    def require(self, action: str, site: Site | None = None,
                municipality: Municipality | None = None, resource: object = None) -> None:
        """Raise NotFound where the place is not visible, Forbidden where the action is not
        granted."""
        if site is not None and not self.can_see_site(site):
            raise NotFound(site.slug)
        if site is None and municipality is not None and not self.can_see_municipality(
                municipality):
            raise NotFound(municipality.slug)
        if not self.can(action, site=site, municipality=municipality, resource=resource):
            raise Forbidden(action)


def load_principal(user: User, token: ApiToken | None = None) -> Principal:
    rows = (RoleGrant.select(RoleGrant.role, RoleGrant.municipality, RoleGrant.site)
            .where(RoleGrant.user == user).tuples())
    return Principal(user=user, grants=tuple(Grant(*r) for r in rows), token=token)


_PRINCIPAL_SQL = ("SELECT u.id, u.email, u.name, u.session_version, g.role, g.municipality_id, "
                  "g.site_id FROM {user} u LEFT JOIN {grant} g ON g.user_id = u.id "
                  "WHERE u.id = {p} AND u.active = {p}")


def _principal(user_id: int, check_version: bool, session_version=None,
               token: ApiToken | None = None) -> Principal | None:
    """The user and their grants in one query: this runs on every request, and building
    two peewee queries cost more than running them (docs/benchmarks.md)."""
    from hubcore import db

    sql = _PRINCIPAL_SQL.format(user=User._meta.table_name, grant=RoleGrant._meta.table_name,
                                p=db.database.param)
    rows = db.database.execute_sql(sql, (user_id, True)).fetchall()
    if not rows or (check_version and rows[0][3] != session_version):
        return None
    uid, email, name, version = rows[0][:4]
    # Only the fields a request needs; load the row (auth.operations.get_user) for more.
    user = User(id=uid, email=email, name=name, session_version=version, active=True)
    grants = tuple(Grant(r[4], r[5], r[6]) for r in rows if r[4] is not None)
    return Principal(user=user, grants=grants, token=token)


def principal_for_session(user_id: int, session_version) -> Principal | None:
    """The principal of a session cookie, None if the user is inactive or the session stale."""
    return _principal(user_id, True, session_version)


def principal_for_token(token: ApiToken) -> Principal | None:
    """The principal acting through a live API token (None if its user is inactive)."""
    return _principal(token.user_id, False, token=token)
