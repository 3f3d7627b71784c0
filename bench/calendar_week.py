"""Requests per second of the calendar's week page of all 20 rooms of a busy site,
against a bare Starlette + Jinja2 page of the same size, and the server's memory.

    python bench/calendar_week.py                  # SQLite, then PostgreSQL
    python bench/calendar_week.py --db sqlite --seconds 10

For each database: a fresh database with the busy site of bench/calendar_data.py (20
rooms, 10,000 bookings a year, a third recurring), a site manager logged in through
the real form, one uvicorn worker for hubcore and one for the bare page, then wrk on
the same machine (16 connections; and one connection for the median latency). The
bare page has the same number of columns, time labels, empty-slot links and entries
as the measured week, with the same markup, from lists made once at start-up: what
is left between the two is hubcore's own work per request (session, roles, site,
menu, the week's query, placing the entries). Resident memory is the hubcore
worker's VmRSS after the runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import calendar_data  # noqa: E402  (sibling scripts)
import pages  # noqa: E402
from calendar_booking import Postgres, machine  # noqa: E402

WEEK = f"{calendar_data.BUSY_YEAR}-06-09"  # a Wednesday: the week of 6/7–6/13
EMAIL, PASSWORD = "bench-manager@example.jp", "bench-password-2027"

# --- the bare page (uvicorn calendar_week:bare_app) ----------------------------------------

BARE = (
    '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>bare week</title>'
    '<link rel="stylesheet" href="/static/hubcore/hubcore.css"></head><body><main>'
    '<h1>Calendar</h1><div class="tg cols-{{ cols|length }}"><div class="tg-corner"></div>'
    '{% for c in cols %}<div class="tg-colhead" id="col-{{ c.key }}"><span class="tg-label">'
    '<a href="{{ c.href }}">{{ c.label }}</a></span></div>{% endfor %}'
    '<div class="tg-times">{% for l in labels %}'
    '<div class="tl r-{{ l.row }} s-4">{{ l.text }}</div>{% endfor %}</div>'
    '{% for c in cols %}<div class="tg-col" role="group" aria-labelledby="col-{{ c.key }}">'
    '{% for s in c.slots %}<a class="slot r-{{ s.row }} s-4" href="{{ s.href }}" '
    'aria-label="{{ s.label }}"></a>{% endfor %}'
    '{% for e in c.entries %}<div class="cl r-{{ e.row }} s-{{ e.span }} ln-1">'
    '<a class="ce r-1 s-{{ e.span }} lc-1" data-plugin="{{ e.program }}" href="{{ e.href }}">'
    '<b>{{ e.time }}</b> {{ e.title }} <i>{{ e.room }}</i></a></div>{% endfor %}'
    '</div>{% endfor %}</div></main></body></html>')


def _bare_lists(slots: int, entries: int) -> list[dict]:
    cols = []
    per_col_slots, per_col_entries = slots // 7, entries // 7
    for c in range(7):
        n_entries = per_col_entries + (1 if c < entries % 7 else 0)
        cols.append({
            "key": f"2027-06-{7 + c:02d}", "label": f"6/{7 + c}(月)", "href": "/day/?date=x",
            "slots": [{"row": 1 + 4 * i, "href": f"/s/busy-hub/calendar/new/?date=2027-06-"
                       f"{7 + c:02d}&start_time={9 + i:02d}:00&end_time={10 + i:02d}:00",
                       "label": f"Book 2027年6月{7 + c}日(月) {9 + i}:00–{10 + i}:00"}
                      for i in range(per_col_slots + (1 if c < slots % 7 else 0))],
            "entries": [{"row": 1 + (i * 3) % 44, "span": 4 + i % 5, "program": "calendar",
                         "href": f"/s/busy-hub/calendar/b/{1000 + i}/?o=20270607T010000Z",
                         "time": "10:00–11:00", "title": calendar_data.TITLES[i % 14],
                         "room": f"部屋{i % 20 + 1:02d}"} for i in range(n_entries)]})
    return cols


def _bare_app():
    from jinja2 import Environment
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    template = Environment(autoescape=True).from_string(BARE)
    cols = _bare_lists(int(os.environ.get("BENCH_SLOTS", "91")),
                       int(os.environ.get("BENCH_ENTRIES", "350")))
    labels = [{"row": 1 + 4 * i, "text": f"{9 + i}:00"} for i in range(13)]

    def page(request):
        return HTMLResponse(template.render(cols=cols, labels=labels))

    return Starlette(routes=[Route("/", page)])


if os.environ.get("BENCH_BARE"):
    bare_app = _bare_app()


# --- the run ---------------------------------------------------------------------------------


def prepare(url: str, bookings: int) -> None:
    """The busy site and its manager, written to ``url``."""
    from hubcore import db
    from hubcore.migrations import migrate
    from hubcore.plugins import get_host
    from hubcore.testing import make_site, make_user

    db.configure(url)
    migrate(get_host())
    with db.database.connection_context():
        site = make_site("busy-hub", municipality="busy-town", name="にぎわい拠点")
        data = calendar_data.generate(site, bookings)
        make_user(EMAIL, ("site_manager", site), password=PASSWORD)
    db.database.obj.close_all()
    print(f"  data: {data['bookings']:,} bookings, {data['rows']:,} occurrence rows "
          f"({data['years']})", flush=True)


def wrk(url: str, cookie: str | None, seconds: int, connections: int = 16) -> float:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"errors while measuring {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def median_ms(url: str, cookie: str | None) -> float:
    args = ["wrk", "-t1", "-c1", "-d3s", "--latency"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def measure(url: str, seconds: int) -> dict:
    import urllib.request

    inst = tempfile.mkdtemp(prefix="hubcore-bench-inst-")
    env = {**os.environ, "DATABASE_URL": url, "HUBCORE_INSTANCE": inst,
           "PYTHONPATH": str(HERE)}
    hub, hub_url = pages.serve("hubcore.asgi:app", env)
    bare = None
    try:
        cookie = pages.login(hub_url, EMAIL, PASSWORD)
        path = f"/s/busy-hub/calendar/?date={WEEK}"
        req = urllib.request.Request(hub_url + path, headers={"Cookie": cookie})
        html = urllib.request.urlopen(req).read().decode()
        counts = {"slots": html.count('class="slot '), "entries": html.count('class="ce '),
                  "columns": html.count('class="tg-col"') + html.count('class="tg-col ')}
        bare, bare_url = pages.serve("calendar_week:bare_app", {
            **env, "BENCH_BARE": "1", "BENCH_SLOTS": str(counts["slots"]),
            "BENCH_ENTRIES": str(counts["entries"])})
        bare_html = urllib.request.urlopen(bare_url + "/").read().decode()
        wrk(hub_url + path, cookie, 2)  # warm-up
        base = wrk(bare_url + "/", None, seconds)
        rps = wrk(hub_url + path, cookie, seconds)
        result = {**counts, "bytes": len(html.encode()), "bare_bytes": len(bare_html.encode()),
                  "bare": base, "rps": rps, "ratio": rps / base,
                  "median": median_ms(hub_url + path, cookie),
                  "bare_median": median_ms(bare_url + "/", None), "rss": pages.rss_mb(hub.pid)}
    finally:
        for p in (hub, bare):
            if p is not None:
                p.terminate()
                p.wait()
        shutil.rmtree(inst, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--bookings", type=int, default=calendar_data.PER_YEAR)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    engines = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    rows = []
    pg = None
    try:
        for engine in engines:
            print(f"{engine}:", flush=True)
            if engine == "sqlite":
                tmp = Path(tempfile.mkdtemp(prefix="hubcore-bench-"))
                url = f"sqlite:///{tmp / 'busy.sqlite3'}"
            else:
                pg = Postgres()
                url = pg.new_database(pg.start(), "busy_week")
            prepare(url, args.bookings)
            time.sleep(1)
            r = measure(url, args.seconds)
            rows.append((engine, r))
            if engine == "sqlite":
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if pg is not None:
            pg.stop()
    print("\n| database | page | req/s (16 clients) | × bare | median ms (1 client) "
          "| size | server RSS |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for engine, r in rows:
        print(f"| {engine} | bare Starlette+Jinja2, same size | {r['bare']:.0f} | 1.00 "
              f"| {r['bare_median']:.2f} | {r['bare_bytes'] / 1024:.0f} KB | |")
        print(f"| {engine} | week of 20 rooms ({r['entries']} entries, {r['slots']} slots) "
              f"| {r['rps']:.0f} | {r['ratio']:.2f} | {r['median']:.2f} "
              f"| {r['bytes'] / 1024:.0f} KB | {r['rss']:.0f} MB |")


if __name__ == "__main__":
    main()
