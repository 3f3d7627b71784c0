"""What routes share: rendering with the site's theme, nav items, widgets, form helpers."""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hubcore import i18n
from hubcore.plugins import get_host

CORE_TEMPLATES = Path(__file__).parent / "templates"
REPO_THEMES = Path(__file__).resolve().parent.parent / "themes"


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    order: int = 100
    key: str = ""  # marks the item current when the page's `nav` equals it


@dataclass(frozen=True)
class Widget:
    title: str
    html: Markup
    order: int = 100


def theme_dirs() -> list[Path]:
    from hubcore.config import instance_path

    return [instance_path() / "themes", REPO_THEMES]


def find_theme(name: str) -> Path | None:
    for base in theme_dirs():
        d = base / name
        if d.is_dir():
            return d
    return None


def _core_loaders() -> list[jinja2.BaseLoader]:
    host = get_host()
    dirs = [CORE_TEMPLATES] + [
        p.templates_dir for p in host.ordered() if p.meta.core and p.templates_dir
    ]
    return [jinja2.FileSystemLoader([str(d) for d in dirs])]


@functools.lru_cache(maxsize=16)
def _environment(theme: str, generation: int, instance: str) -> jinja2.Environment:
    host = get_host()
    plugins = [p for p in host.ordered() if not p.meta.core and p.templates_dir]
    core = jinja2.ChoiceLoader(_core_loaders())
    choice: list[jinja2.BaseLoader] = []
    theme_dir = find_theme(theme)
    if theme_dir and (theme_dir / "templates").is_dir():
        choice.append(jinja2.FileSystemLoader(str(theme_dir / "templates")))
    choice += [jinja2.FileSystemLoader(str(p.templates_dir)) for p in plugins]
    choice.append(core)
    # "core:base.html" and "<plugin>:x.html" name the original, so an override can extend it.
    prefixed = {"core": core} | {
        p.meta.name: jinja2.FileSystemLoader(str(p.templates_dir)) for p in plugins
    }
    choice.append(jinja2.PrefixLoader(prefixed, delimiter=":"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(choice),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    has_css = theme_dir is not None and (theme_dir / "static" / "theme.css").is_file()
    env.globals["theme_name"] = theme if has_css else None
    env.globals["lang_url"] = lang_url
    env.filters["wareki"] = wareki
    env.filters["date_ja"] = date_ja
    env.globals["site_url"] = site_url
    env.globals["csrf_token"] = csrf_token
    env.globals["csrf_field"] = csrf_field
    env.globals["can"] = can_in_context
    host.pm.hook.prepare_jinja2_environment(env=env)
    return env


def environment(theme: str = "default") -> jinja2.Environment:
    """The Jinja2 environment of a theme, built once per theme and plugin set."""
    # The instance folder is part of the key: it decides where themes are looked up.
    return _environment(theme, get_host().generation, os.environ.get("HUBCORE_INSTANCE", ""))


WAREKI = ((dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成"),
          (dt.date(1926, 12, 25), "昭和"), (dt.date(1912, 7, 30), "大正"),
          (dt.date(1868, 1, 25), "明治"))


def lang_url(request: Request, lang: str) -> str:
    """This page in another language, its other query parameters kept (q, row, page...)."""
    from urllib.parse import urlencode

    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*params, ("lang", lang)])


def plugin_colours_css() -> str:
    """One rule per plugin colour, so templates need no inline style (CSP-friendly)."""
    return "".join(
        f'[data-plugin="{p.meta.name}"]{{--chip:{p.meta.colour}}}\n' for p in get_host().ordered()
    )


def wareki(day: dt.date | None) -> str:
    """A date in 和暦, e.g. 令和8年11月28日 (元年 for the first year of an era)."""
    if day is None:
        return ""
    for start, era in WAREKI:
        if day >= start:
            year = day.year - start.year + 1
            return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    return day.isoformat()


def date_ja(day: dt.date | None) -> str:
    if day is None:
        return ""
    if i18n.current_language.get() == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


@jinja2.pass_context
def csrf_token(context) -> str:
    """The CSRF token for this visitor (asgi-csrf sets its cookie when a page asks)."""
    getter = context["request"].scope.get("csrftoken")
    return getter() if getter else ""


@jinja2.pass_context
def csrf_field(context) -> Markup:
    """The hidden form field every POST form carries."""
    return Markup('<input type="hidden" name="csrftoken" value="{}">').format(csrf_token(context))


@jinja2.pass_context
def can_in_context(context, action: str, site=None) -> bool:
    """``{% if can("rooms.manage") %}``: the current user's permission at the page's site."""
    return can(context["request"], action, site)


def can(request: Request, action: str, site=None) -> bool:
    """Whether the request's user may do ``action`` at ``site`` (default: the page's site).
    No request (a hook called outside one) or no user: no."""
    principal = getattr(request.state, "principal", None) if request is not None else None
    if principal is None:
        return False
    site = site if site is not None else getattr(request.state, "site", None)
    municipality = getattr(request.state, "municipality", None)
    return principal.can(action, site=site, municipality=municipality if site is None else None)


def site_context(request: Request) -> dict[str, Any]:
    """Menu and slot helper for pages under /s/{site}/."""
    site = getattr(request.state, "site", None)
    if site is None:
        return {}
    items = [i for batch in site.hooks.navigation_items(site=site, request=request) for i in batch]
    items.sort(key=lambda i: (i.order, i.label))

    def slot(name: str) -> Markup:
        parts = site.hooks.template_slot(site=site, slot=name, request=request)
        return Markup("").join(Markup(p) if isinstance(p, Markup) else Markup.escape(p)
                               for p in parts if p)

    return {"site": site, "nav_items": items, "slot": slot}


def _render(request: Request, template: str, context: dict[str, Any]) -> str:
    """Render with the theme of the request's site (or the default theme)."""
    site = getattr(request.state, "site", None)
    env = environment(site.theme if site is not None else "default")
    ctx = {"request": request, "lang": i18n.current_language.get(),
           "principal": getattr(request.state, "principal", None), **context}
    return env.get_template(template).render(ctx)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A whole page (or an htmx fragment of one) with the site's menu and slots."""
    ctx = {"is_htmx": is_htmx(request), **site_context(request), **(context or {})}
    return HTMLResponse(_render(request, template, ctx), status_code=status_code,
                        headers=headers)


def render_fragment(request: Request, template: str,
                    context: dict[str, Any] | None = None) -> Markup:
    """Render a template to HTML for a widget or panel (no menu: the page has one)."""
    return Markup(_render(request, template, context or {}))


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect(url: str, request: Request) -> Response:
    """After a successful POST: a 303, or an HX-Redirect header for htmx."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})


def site_url(site, *parts: str) -> str:
    return "/s/" + "/".join([site.slug, *[str(p).strip("/") for p in parts if p != ""]]) + "/"


def writes_on_read(view):
    """Mark a GET view that writes, e.g. logs a sensitive read (``sensitive_read``) or
    shows panels that may: on SQLite it then runs in the thread pool like a POST, so a
    wait for the write lock never holds up the event loop."""
    view.writes_on_read = True
    return view


def sync_endpoint(view):
    """A Starlette endpoint for a plain ``def`` view that uses the database.

    Reads on SQLite run inline on the event loop: in WAL mode they never wait for a
    lock and take about a millisecond, and the thread-pool hop with its GIL contention
    halved throughput under load (docs/benchmarks.md). Writes, which may wait for the
    write lock, and everything on PostgreSQL, where each query is a network round trip,
    run in the thread pool as Starlette would; so do GET views marked ``writes_on_read``.
    """

    @functools.wraps(view)
    async def endpoint(request: Request):
        from hubcore import db

        if (request.method in ("GET", "HEAD") and db.is_sqlite()
                and not getattr(view, "writes_on_read", False)):
            return view(request)
        return await run_in_threadpool(view, request)

    return endpoint


def read_form(request: Request, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The posted form as a clean dict, from a plain ``def`` endpoint (a worker thread)."""
    import anyio.from_thread

    from hubcore.forms import form_dict

    return form_dict(anyio.from_thread.run(request.form), lists=lists)
