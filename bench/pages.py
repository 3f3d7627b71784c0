"""Requests per second of hubcore's pages against a bare Starlette + Jinja2 page.

    python bench/pages.py            # SQLite demo; needs wrk (apt-get install wrk)
    DATABASE_URL=postgresql://... python bench/pages.py

One uvicorn worker each, wrk on the same machine: throughput with 16 connections
(-t1 -c16 -d5s) and the median latency of a single client (-c1 -d3s). Absolute
numbers drift between runs; the ratio to the bare page measured in the same run
drifts much less.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["/s/midorino-school/", "/s/midorino-school/rooms/", "/s/midorino-school/people/",
         "/api/v1/sites/midorino-school/rooms",
         # Childcare: the check-in tablet (today's children) and the ratio board.
         "/s/midorino-school/childcare/tablet/", "/s/midorino-school/childcare/board/"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: str, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", app, "--port", str(port),
                             "--log-level", "error", "--no-access-log"], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return proc, url


HEADERS: list[str] = []  # wrk -H options: the logged-in manager's session, an API token


def login(url: str, email: str, password: str) -> str:
    """A session cookie from the real log-in form (CSRF token included)."""
    import http.cookiejar
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(url + "/login")
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrftoken": csrf}).encode()
    opener.open(url + "/login", data=form)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk_args(url: str) -> list[str]:
    args = []
    for header in HEADERS:
        if header.startswith("Authorization") and "/api/" not in url:
            continue
        args += ["-H", header]
    return args


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (e.g. to the log-in page) is an answer of its own


def status(url: str) -> int:
    """The HTTP status of one GET with the same headers wrk sends (redirects not followed)."""
    import urllib.error

    args = wrk_args(url)
    headers = dict(a.split(": ", 1) for a in args[1::2])
    try:
        with urllib.request.build_opener(_NoRedirect).open(
                urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wrk(url: str) -> float:
    """Requests per second with 16 connections at once."""
    out = subprocess.run(["wrk", "-t1", "-c16", "-d5s", *wrk_args(url), url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def median_ms(url: str) -> float:
    """Median latency of one client alone: what a person at the front desk waits."""
    out = subprocess.run(["wrk", "-t1", "-c1", "-d3s", "--latency", *wrk_args(url), url],
                         capture_output=True, text=True, check=True).stdout
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    inst = tempfile.mkdtemp(prefix="hubcore-bench-")
    env = {**os.environ, "HUBCORE_INSTANCE": inst, "PYTHONPATH": str(ROOT / "bench")}
    subprocess.run([str(Path(sys.executable).parent / "hubcore"), "demo"], env=env, check=True,
                   capture_output=True)
    bare, bare_url = serve("bare_app:app", env)
    hub, hub_url = serve("hubcore.asgi:app", env)
    # Pages are measured as the demo's site manager sees them (every request loads the
    # session's user and roles), the API with that manager's token.
    token = subprocess.run([str(Path(sys.executable).parent / "hubcore"), "user", "token",
                            "create", "manager@example.jp", "--name", "bench"], env=env,
                           check=True, capture_output=True, text=True).stdout.split()[-1]
    HEADERS[:] = ["Cookie: " + login(hub_url, "manager@example.jp", "demo-manager-2026"),
                  f"Authorization: Bearer {token}"]
    try:
        base = wrk(bare_url + "/")
        pg = os.environ.get("DATABASE_URL", "").startswith("postgres")
        engine = "PostgreSQL" if pg else "SQLite"
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, database: "
              f"{engine}")
        print("| page | req/s (16 clients) | × bare page | median ms (1 client) |")
        print("| --- | ---: | ---: | ---: |")
        print(f"| bare Starlette+Jinja2 | {base:.0f} | 1.00 | {median_ms(bare_url + '/'):.2f} |")
        for path in PAGES:
            code = status(hub_url + path)
            flag = "" if code == 200 else f" (HTTP {code}, not 200!)"
            rps = wrk(hub_url + path)
            print(f"| `{path}`{flag} | {rps:.0f} | {rps / base:.2f} "
                  f"| {median_ms(hub_url + path):.2f} |")
        print(f"hubcore worker resident memory after the run: {rss_mb(hub.pid):.0f} MB")
    finally:
        for p in (bare, hub):
            p.terminate()
            p.wait()
        shutil.rmtree(inst, ignore_errors=True)


if __name__ == "__main__":
    main()
