"""Accounts as plain functions: users, role grants, passwords, log-in with throttling,
API tokens. Every change is recorded in the audit log inside its own transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubcore.audit.operations import Actor, record
from hubcore.auth.actions import ROLES, role_label
from hubcore.auth.models import ApiToken, LoginThrottle, RoleGrant, User
from hubcore.db import MAX_ID, utcnow, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import nfkc
from hubcore.i18n import gettext as _
from hubcore.sites.models import Municipality, Site

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

MIN_PASSWORD = 10
TOKEN_PREFIX = "hc_"


# --- users -------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return nfkc(email).strip().lower()


def _check_email(email: str) -> str:
    email = normalise_email(email)
    local, _sep, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 254:
        raise Invalid({"email": _("Email: enter an address like name@example.jp.")})
    return email


def check_password(password: str, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid({field: _("Password: use at least {n} characters.").format(
            n=MIN_PASSWORD)})
    if len(password) > 1000:
        raise Invalid({field: _("Password: use at most 1000 characters.")})
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return bool(user.password_hash) and _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_user(raw_id) -> User:
    text = str(raw_id)
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        raise NotFound(raw_id)
    user = User.get_or_none(User.id == int(text))
    if user is None:
        raise NotFound(raw_id)
    return user


def find_user(email: str) -> User | None:
    return User.get_or_none(User.email == normalise_email(email))


def create_user(email: str, name: str, password: str | None = None) -> User:
    """A new account. Without a password it cannot log in until one is set."""
    email = _check_email(email)
    name = nfkc(name).strip()
    if not name:
        raise Invalid({"name": _("Name: enter the person's name.")})
    if password is not None:
        check_password(password)
    with write_transaction():
        if find_user(email) is not None:
            raise Invalid({"email": _("Email: an account with this address exists already.")})
        user = User.create(email=email, name=name[:100],
                           password_hash=hash_password(password) if password else "")
        record("user_created", subject=f"user:{user.id}", detail={"email": email})
    return user


def set_password(user: User, password: str, *, reset: bool = False) -> None:
    """Set a new password; every session of the user ends (their cookies go stale)."""
    check_password(password)
    with write_transaction():
        User.update(password_hash=hash_password(password),
                    session_version=User.session_version + 1).where(User.id == user.id).execute()
        LoginThrottle.delete().where(LoginThrottle.key == _email_key(user.email)).execute()
        record("password_reset" if reset else "password_changed", subject=f"user:{user.id}")
    user.session_version += 1


def set_active(user: User, active: bool) -> None:
    with write_transaction():
        User.update(active=active, session_version=User.session_version + 1).where(
            User.id == user.id).execute()
        record("user_reactivated" if active else "user_deactivated", subject=f"user:{user.id}")
    user.active = active


# --- roles -------------------------------------------------------------------------------


def _scope_of(role: str, municipality: Municipality | None, site: Site | None
              ) -> tuple[Municipality | None, Site | None]:
    scope = ROLES.get(role)
    if scope is None:
        raise Invalid({"role": _("Role: choose one of the listed roles.")})
    if scope == "platform":
        return None, None
    if scope == "municipality":
        if municipality is None:
            raise Invalid({"municipality": _("Municipality: this role needs one.")})
        return municipality, None
    if site is None:
        raise Invalid({"site": _("Site: this role needs a site.")})
    return site.municipality, site


def _grant_query(user: User, role: str, municipality, site):
    q = RoleGrant.select().where((RoleGrant.user == user) & (RoleGrant.role == role))
    q = q.where(RoleGrant.municipality.is_null() if municipality is None
                else RoleGrant.municipality == municipality)
    return q.where(RoleGrant.site.is_null() if site is None else RoleGrant.site == site)


def _place(municipality, site) -> str:
    return site.slug if site is not None else (municipality.slug if municipality else "platform")


def grant_role(user: User, role: str, municipality: Municipality | None = None,
               site: Site | None = None) -> bool:
    """Give ``user`` the role at a place. Returns False if they held it already."""
    municipality, site = _scope_of(role, municipality, site)
    actor = _current_user_id()
    with write_transaction():
        if _grant_query(user, role, municipality, site).exists():
            return False
        RoleGrant.create(user=user, role=role, municipality=municipality, site=site,
                         granted_by=actor)
        record("role_granted", site=site, municipality=municipality, subject=f"user:{user.id}",
               detail={"email": user.email, "role": role, "at": _place(municipality, site)})
    return True


def revoke_role(user: User, role: str, municipality: Municipality | None = None,
                site: Site | None = None) -> bool:
    municipality, site = _scope_of(role, municipality, site)
    with write_transaction():
        n = RoleGrant.delete().where(
            RoleGrant.id.in_(_grant_query(user, role, municipality, site).select(RoleGrant.id))
        ).execute()
        if n:
            record("role_revoked", site=site, municipality=municipality,
                   subject=f"user:{user.id}",
                   detail={"email": user.email, "role": role, "at": _place(municipality, site)})
    return bool(n)


def _current_user_id() -> int | None:
    from hubcore.audit.operations import current_actor

    actor = current_actor.get()
    return actor.user_id if actor else None


def describe_grant(g: RoleGrant) -> str:
    place = g.site.name if g.site_id else (g.municipality.name if g.municipality_id else "")
    return f"{role_label(g.role)} ({place})" if place else role_label(g.role)


def users_of_municipality(municipality: Municipality) -> list[tuple[User, list[RoleGrant]]]:
    """Users holding a role in the municipality (or at one of its sites), with those roles."""
    grants = list(RoleGrant.select(RoleGrant, User).join(User)
                  .where(RoleGrant.municipality == municipality)
                  .order_by(User.name, User.id, RoleGrant.id))
    out: dict[int, tuple[User, list[RoleGrant]]] = {}
    for g in grants:
        out.setdefault(g.user.id, (g.user, []))[1].append(g)
    return list(out.values())


def remove_from_municipality(user: User, municipality: Municipality) -> int:
    """Take away every role the user holds in the municipality; an account left with no
    role anywhere is deactivated, so it cannot log in to an empty world."""
    with write_transaction():
        grants = list(RoleGrant.select().where((RoleGrant.user == user)
                                               & (RoleGrant.municipality == municipality)))
        for g in grants:
            revoke_role(user, g.role, municipality, g.site)
        if not RoleGrant.select().where(RoleGrant.user == user).exists() and user.active:
            set_active(user, False)
    return len(grants)


# --- log-in ------------------------------------------------------------------------------

# Failures before each attempt must wait, how long, and when the account locks.
SLOW_AFTER = 3
LOCK_AFTER = 10
LOCK_FOR = dt.timedelta(minutes=15)
IP_LOCK_AFTER = 50  # many accounts tried from one address
FORGET_AFTER = dt.timedelta(hours=1)  # a failure older than this no longer counts


@dataclass
class LoginResult:
    user: User | None
    wait: dt.timedelta | None = None  # refused without checking: try again after this

    @property
    def ok(self) -> bool:
        return self.user is not None


def _email_key(email: str) -> str:
    return "email:" + normalise_email(email)[:250]


def _delay(failures: int) -> dt.timedelta:
    """Wait before the next try: 0 for the first few, then 2, 4, 8 … seconds (≤ 60)."""
    if failures < SLOW_AFTER:
        return dt.timedelta(0)
    return dt.timedelta(seconds=min(60, 2 ** (failures - SLOW_AFTER + 1)))


def _waiting(row: LoginThrottle | None, now: dt.datetime, lock_after: int, slow: bool
             ) -> dt.timedelta | None:
    if row is None or row.last_failure_at is None:
        return None
    if now - _aware(row.last_failure_at) > FORGET_AFTER and not row.locked_until:
        return None
    if row.locked_until and _aware(row.locked_until) > now:
        return _aware(row.locked_until) - now
    if row.failures >= lock_after or not slow:
        return None  # a lock that ran out: one more try is allowed
    ready = _aware(row.last_failure_at) + _delay(row.failures)
    return ready - now if ready > now else None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _fail(key: str, now: dt.datetime, lock_after: int) -> None:
    row = LoginThrottle.get_or_none(LoginThrottle.key == key)
    if row is None:
        LoginThrottle.create(key=key, failures=1, last_failure_at=now)
        return
    stale = row.last_failure_at and now - _aware(row.last_failure_at) > FORGET_AFTER
    failures = 1 if stale else row.failures + 1
    locked = now + LOCK_FOR if failures >= lock_after else None
    LoginThrottle.update(failures=failures, last_failure_at=now, locked_until=locked).where(
        LoginThrottle.key == key).execute()


def authenticate(email: str, password: str, ip: str = "",
                 now: dt.datetime | None = None) -> LoginResult:
    """Check a log-in. Refuses without checking while the email or address must wait;
    records every outcome in the audit log."""
    now = now or utcnow()
    email = normalise_email(email)
    # An address only locks after many failures (a town hall's staff share one address);
    # an email slows down after a few and then locks.
    keys = ((_email_key(email), LOCK_AFTER), ("ip:" + ip[:64], IP_LOCK_AFTER))
    with write_transaction():
        rows = {k: LoginThrottle.get_or_none(LoginThrottle.key == k) for k, _n in keys}
        waits = [w for i, (k, n) in enumerate(keys)
                 if (w := _waiting(rows[k], now, n, slow=i == 0)) is not None]
        if waits:
            record("login_locked", detail={"email": email},
                   actor=Actor(None, email, ip))
            return LoginResult(None, wait=max(waits))
    user = find_user(email)
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH,
                            password)
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active and bool(user.password_hash)
    with write_transaction():
        if not ok:
            for k, n in keys:
                _fail(k, now, n)
            record("login_failed", detail={"email": email},
                   actor=Actor(user.id if user else None, email, ip))
            return LoginResult(None)
        LoginThrottle.delete().where(LoginThrottle.key == keys[0][0]).execute()
        changes = {User.last_login_at: now}
        if _hasher.check_needs_rehash(user.password_hash):
            changes[User.password_hash] = hash_password(password)
        User.update(changes).where(User.id == user.id).execute()
        record("login", actor=Actor(user.id, user.email, ip))
    return LoginResult(user)


# --- API tokens -----------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, read_only: bool = True,
                 site: Site | None = None) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and never stored."""
    name = nfkc(name).strip()
    if not name:
        raise Invalid({"name": _("Name: say what the token is for.")})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        token = ApiToken.create(user=user, name=name[:100], token_hash=_digest(secret),
                                prefix=secret[:10], read_only=read_only, site=site)
        record("token_created", site=site, subject=f"token:{token.id}",
               detail={"name": token.name, "user": user.email, "read_only": read_only})
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    return list(ApiToken.select().where(ApiToken.user == user)
                .order_by(ApiToken.revoked_at.is_null(False), ApiToken.created_at.desc()))


def get_token(user: User, raw_id) -> ApiToken:
    text = str(raw_id)
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        raise NotFound(raw_id)
    token = ApiToken.get_or_none((ApiToken.id == int(text)) & (ApiToken.user == user))
    if token is None:
        raise NotFound(raw_id)
    return token


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    with write_transaction():
        token.revoked_at = utcnow()
        token.save()
        record("token_revoked", subject=f"token:{token.id}", detail={"name": token.name})


def live_token(secret: str) -> ApiToken | None:
    """The unrevoked token of a bearer secret, or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = ApiToken.get_or_none((ApiToken.token_hash == _digest(secret))
                               & ApiToken.revoked_at.is_null())
    if row is None:
        return None
    now = utcnow()
    # Touch last_used_at at most once a minute: a read should not be a write each time.
    if row.last_used_at is None or now - _aware(row.last_used_at) > dt.timedelta(minutes=1):
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row
