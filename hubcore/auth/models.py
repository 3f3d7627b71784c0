"""Accounts: users, the roles they hold where, API tokens, and log-in throttling."""

from __future__ import annotations

import peewee

from hubcore.db import BaseModel, utcnow
from hubcore.sites.models import Municipality, Site


class User(BaseModel):
    email = peewee.CharField(max_length=254, unique=True)  # stored lower-case
    name = peewee.CharField(max_length=100)
    password_hash = peewee.CharField(max_length=200, default="")  # "" : cannot log in
    active = peewee.BooleanField(default=True)
    # Bumped on a password change or deactivation: every session cookie issued
    # before carries the old number and stops working.
    session_version = peewee.IntegerField(default=1)
    created_at = peewee.DateTimeField(default=utcnow)
    last_login_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "user_account"  # "user" is reserved in PostgreSQL


class RoleGrant(BaseModel):
    """One role of a user at one place: the platform, a municipality, or a site.

    Site roles record the site's municipality too, so "which municipalities can this
    user see" needs no join.
    """

    user = peewee.ForeignKeyField(User, backref="grants", on_delete="CASCADE")
    role = peewee.CharField(max_length=32)
    municipality = peewee.ForeignKeyField(Municipality, null=True, on_delete="CASCADE")
    site = peewee.ForeignKeyField(Site, null=True, on_delete="CASCADE")
    granted_at = peewee.DateTimeField(default=utcnow)
    granted_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL",
                                        backref="granted")

    class Meta:
        table_name = "role_grant"
        indexes = ((("user", "role", "municipality", "site"), True),)


class ApiToken(BaseModel):
    """A bearer token for the JSON API. Only a SHA-256 of the secret is kept: the
    secret is 32 random bytes, so a slow hash would add nothing but latency."""

    user = peewee.ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    token_hash = peewee.CharField(max_length=64, unique=True)
    prefix = peewee.CharField(max_length=12)  # shown in lists to tell tokens apart
    read_only = peewee.BooleanField(default=True)
    site = peewee.ForeignKeyField(Site, null=True, on_delete="CASCADE")  # None: all the user's
    created_at = peewee.DateTimeField(default=utcnow)
    last_used_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "api_token"


class LoginThrottle(BaseModel):
    """Failed log-ins per key ("email:…" or "ip:…"), shared by every worker process."""

    key = peewee.CharField(max_length=300, primary_key=True)
    failures = peewee.IntegerField(default=0)
    last_failure_at = peewee.DateTimeField(null=True)
    locked_until = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "login_throttle"


MODELS = [User, RoleGrant, ApiToken, LoginThrottle]
