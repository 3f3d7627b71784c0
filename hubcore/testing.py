"""Fixtures and helpers for hubcore's tests and for plugin authors' tests.

Use it from a conftest.py with ``pytest_plugins = ["hubcore.testing"]``. Every test
that asks for ``db_url`` (or for a fixture built on it: ``database``, ``client``,
``site``) runs twice: on SQLite and on a real PostgreSQL in a throwaway cluster
that the test session starts (and stops). Without PostgreSQL binaries those runs
skip with the reason; with HUBCORE_REQUIRE_POSTGRES=1 (as in CI) they fail instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from hubcore import db
from hubcore.config import Settings
from hubcore.migrations import migrate
from hubcore.plugins import get_host

PG_PORT = int(os.environ.get("HUBCORE_TEST_PG_PORT", "0"))  # 0: any free port


# --- helpers ---------------------------------------------------------------


def make_site(slug: str = "test-site", municipality: str = "test-town", name: str = "テスト拠点",
              plugins: tuple[str, ...] = ()):
    """Create (or fetch) a municipality and a site, with ``plugins`` switched on."""
    from hubcore.sites import operations as ops
    from hubcore.sites.models import Municipality, Site

    m, _ = Municipality.get_or_create(slug=municipality, defaults={"name": "テスト町",
                                                                   "name_kana": "テストチョウ"})
    site, _ = Site.get_or_create(slug=slug, defaults={"municipality": m, "name": name,
                                                      "name_kana": "テストキョテン"})
    for plugin in plugins:
        ops.set_municipality_plugin(m, plugin, True)
        ops.set_site_plugin(site, plugin, True)
    site._hooks = None
    site._enabled = None
    return site


TEST_PASSWORD = "test-password-123"


def make_user(email: str, *grants: tuple, name: str = "テスト 利用者",
              password: str = TEST_PASSWORD):
    """Create (or fetch) a user holding ``grants``: (role, site), (role, municipality)
    or ("platform_admin", None)."""
    from hubcore.auth import operations as ops
    from hubcore.sites.models import Site

    user = ops.find_user(email) or ops.create_user(email, name, password)
    for role, place in grants:
        if isinstance(place, Site):
            ops.grant_role(user, role, site=place)
        else:
            ops.grant_role(user, role, municipality=place)
    return user


def login(client, email: str, password: str = TEST_PASSWORD):
    """Log ``client`` in through the real form (CSRF token included); returns the answer."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return client.post("/login", data={"email": email, "password": password,
                                       "csrftoken": client.cookies.get("csrftoken", "")},
                       follow_redirects=False)


def api_token(email: str, read_only: bool = False, site=None) -> str:
    """A new API token secret for the user with ``email``."""
    from hubcore.auth import operations as ops

    _token, secret = ops.create_token(ops.find_user(email), "test", read_only=read_only,
                                      site=site)
    return secret


def hub_client(app, csrf: bool = True, token: str | None = None):
    """A TestClient that, like the browser, sends the CSRF cookie's token as the
    x-csrftoken header on state-changing requests (``csrf=False`` to test refusals),
    and ``token`` as a bearer token on /api/ requests."""
    from starlette.testclient import TestClient

    class HubClient(TestClient):
        def request(self, method, url, *args, headers=None, **kwargs):
            headers = dict(headers or {})
            path = str(url)
            if token and "/api/" in path:
                headers.setdefault("Authorization", f"Bearer {token}")
            if csrf and method.upper() not in ("GET", "HEAD", "OPTIONS"):
                if "csrftoken" not in self.cookies:
                    super().request("GET", "/login")  # any page that sets the cookie
                headers.setdefault("x-csrftoken", self.cookies.get("csrftoken", ""))
            return super().request(method, url, *args, headers=headers, **kwargs)

    return HubClient(app)


@contextlib.contextmanager
def user_client(settings: Settings, *grants: tuple, email: str = "user@test.example.jp"):
    """An app built now (with the plugins registered now) and a client logged in as a user
    holding ``grants`` (see make_user); /api/ requests carry the user's read/write token."""
    from hubcore.app import create_app

    make_user(email, *grants)
    with hub_client(create_app(settings), token=api_token(email)) as c:
        assert login(c, email).status_code == 303
        yield c


@contextlib.contextmanager
def registered(*modules: ModuleType) -> Iterator[None]:
    """Register plugin modules for the duration of a ``with`` block, then remove them."""
    host = get_host()
    names = [host.register(m).name for m in modules]
    try:
        yield
    finally:
        for name in reversed(names):
            host.unregister(name)


@contextlib.contextmanager
def without_optional_plugins() -> Iterator[None]:
    """Take every installed optional plugin (the repository's own programs included) out
    for a ``with`` block: for tests of the core alone."""
    host = get_host()
    optional = {n: host.plugins[n] for n in host.optional_names()}
    for name in optional:
        host.unregister(name)
    try:
        yield
    finally:
        for loaded in optional.values():
            host.register(loaded.module, source=loaded.source)


# --- PostgreSQL throwaway cluster ----------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    """A private cluster in a temp folder, on 127.0.0.1, trust auth; gone at the end."""

    def __init__(self, bindir: Path, port: int):
        self.bindir = bindir
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="hubcore-pg-"))
        self.as_postgres = os.geteuid() == 0  # root may not run initdb

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if self.as_postgres:
            cmd = ["su", "postgres", "-c", " ".join(f"'{c}'" for c in cmd)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        self._run(self.bindir / "initdb", "-D", data, "-U", "postgres", "--auth-local=trust",
                  "--auth-host=trust", "-E", "UTF8", "--locale=C.UTF-8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.bindir / "pg_ctl", "-D", data, "-o", opts, "-l", self.dir / "log",
                  "-w", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self.bindir / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _admin_execute(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        c.execute(sql)


# --- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """The admin URL of the session's PostgreSQL, or None where none can run."""
    url = os.environ.get("HUBCORE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = _pg_bin()
    if bindir is None:
        yield None
        return
    cluster = PostgresCluster(bindir, PG_PORT or _free_port())
    try:
        url = cluster.start()
    except subprocess.CalledProcessError as exc:
        cluster.stop()
        raise RuntimeError(f"PostgreSQL test cluster did not start: {exc.stderr}") from exc
    try:
        yield url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def _templates(postgres_server, tmp_path_factory) -> dict[str, str]:
    """A migrated template database per engine, copied for each test (faster than migrating)."""
    out = {}
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    db.configure(f"sqlite:///{path}")
    migrate(get_host())
    db.database.obj.close_all()
    out["sqlite"] = str(path)
    if postgres_server:
        _admin_execute(postgres_server, "DROP DATABASE IF EXISTS hubcore_template")
        _admin_execute(postgres_server, "CREATE DATABASE hubcore_template")
        db.configure(postgres_server.rsplit("/", 1)[0] + "/hubcore_template")
        migrate(get_host())
        db.database.obj.close_all()
        out["postgresql"] = postgres_server
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, _templates, tmp_path) -> Iterator[str]:
    """A fresh, migrated database for one test: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "hubcore.sqlite3"
        shutil.copy(_templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    yield from _throwaway_database(_templates.get("postgresql"), "TEMPLATE hubcore_template")


def _throwaway_database(admin: str | None, create_options: str = "") -> Iterator[str]:
    """A new database on the session's server for one test, dropped afterwards."""
    if admin is None:
        if os.environ.get("HUBCORE_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (HUBCORE_REQUIRE_POSTGRES=1) but no binaries "
                        "were found: apt-get install postgresql")
        pytest.skip("no PostgreSQL server binaries on this machine (apt-get install postgresql)")
    name = "t_" + uuid.uuid4().hex[:12]
    _admin_execute(admin, f"CREATE DATABASE {name} {create_options}")
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        if db.database.obj is not None:
            db.database.obj.close_all()
        _admin_execute(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, postgres_server, tmp_path) -> Iterator[str]:
    """A database with no tables at all (for migration tests): SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    yield from _throwaway_database(postgres_server)


@pytest.fixture
def database(db_url) -> Iterator[str]:
    """The test's database configured for hubcore, with a connection open in this thread."""
    db.configure(db_url)
    with db.database.connection_context():
        yield db_url
    db.database.obj.close_all()


@pytest.fixture
def settings(db_url, tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("HUBCORE_INSTANCE", str(tmp_path / "instance"))
    return Settings(instance=tmp_path / "instance", database_url=db_url, secret_key="test-key")


@pytest.fixture
def site(database):
    """A site of a test municipality, no optional plugin switched on."""
    return make_site()


TEST_USER = "manager@test.example.jp"


@pytest.fixture
def client(settings, database):
    """A TestClient logged in as the test site's manager, who is also the test
    municipality's administrator; /api/ requests carry that user's read/write token."""
    from hubcore.app import create_app

    site = make_site()
    make_user(TEST_USER, ("site_manager", site), ("municipality_admin", site.municipality))
    with hub_client(create_app(settings), token=api_token(TEST_USER)) as c:
        assert login(c, TEST_USER).status_code == 303
        yield c


@pytest.fixture
def login_as(settings, database):
    """A function giving a client logged in as the (existing) user with that email, on an
    app built at that moment; the clients are closed after the test."""
    from hubcore.app import create_app

    with contextlib.ExitStack() as stack:

        def make(email: str):
            c = stack.enter_context(hub_client(create_app(settings)))
            assert login(c, email).status_code == 303
            return c

        yield make


@pytest.fixture
def in_english() -> Iterator[None]:
    """Operations' messages in English for this test (Japanese is the default)."""
    from hubcore import i18n

    token = i18n.current_language.set("en")
    yield
    i18n.current_language.reset(token)


@pytest.fixture
def anonymous_client(settings, database):
    """A TestClient nobody has logged in with, sending no CSRF header by itself."""
    from hubcore.app import create_app

    with hub_client(create_app(settings), csrf=False) as c:
        yield c


# --- a real server for browser tests ----------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(db_url, tmp_path) -> Iterator[str]:
    """uvicorn serving the demo hub on 127.0.0.1 over the test's database; yields its URL."""
    import sys
    import time
    import urllib.request

    env = {**os.environ, "DATABASE_URL": db_url, "HUBCORE_INSTANCE": str(tmp_path / "live")}
    exe = str(Path(sys.executable).parent / "hubcore")
    subprocess.run([exe, "demo"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "hubcore.asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def browser_login(page, base_url: str, email: str, password: str, path: str = "/") -> None:
    """Log a Playwright page in through the real form, starting from ``path``."""
    page.goto(base_url + path)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """pytest-playwright: a Japanese tablet (date pickers, number formats) in Tokyo."""
    return {**browser_context_args, "locale": "ja-JP", "timezone_id": "Asia/Tokyo",
            "viewport": {"width": 1024, "height": 768}}


CHROMIUM = os.environ.get("HUBCORE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright: use the distro's Chromium (no browser download here)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # No background calls home: this network refuses them, and tests need none.
        "args": ["--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }
