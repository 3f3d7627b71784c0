"""Session cookie, CSRF protection and security headers around the whole app.

Sessions are Starlette's signed cookie (itsdangerous); CSRF is asgi-csrf, the
double-submit cookie Datasette uses: forms carry a ``csrftoken`` field, htmx sends
the ``x-csrftoken`` header (set once on <body> with hx-headers). Both cookies get
the Secure flag when the request came over HTTPS (uvicorn's proxy headers tell), so
one deployment works behind a TLS proxy and on http://127.0.0.1 alike.
"""

from __future__ import annotations

from asgi_csrf import asgi_csrf
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "hubcore_session"
SESSION_MAX_AGE = 12 * 60 * 60  # one long shift; then log in again
CSRF_COOKIE = "csrftoken"

# Only our own files: no inline scripts or styles anywhere (templates use classes,
# plugin colours come from /plugin-colours.css), no framing, no plugins.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
STATIC_PREFIXES = ("/static/", "/themes/", "/plugin-colours.css")


def _is_api(scope: Scope) -> bool:
    # The JSON API reads no cookies (bearer tokens only), so a forged request carries
    # nothing it would accept.
    return scope["path"].startswith("/api/")


async def csrf_failed(scope: Scope, send: Send, message_id) -> None:
    """A 403 page in the visitor's language; the request never reached the app."""
    from starlette.concurrency import run_in_threadpool

    from hubcore import i18n
    from hubcore.i18n import gettext as _
    from hubcore.web import render

    request = Request(scope)
    token = i18n.current_language.set(i18n.pick_language(request.query_params.get("lang"),
                                                         request.cookies.get("lang")))
    try:
        response = await run_in_threadpool(
            render, request, "error.html",
            {"title": _("This form has expired"),
             "message": _("The security check of the form failed, so nothing was saved. "
                          "Reload the page and try again.")}, 403)
    finally:
        i18n.current_language.reset(token)

    async def receive() -> Message:  # the body was already read by asgi-csrf
        return {"type": "http.disconnect"}

    await response(scope, receive, send)


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        self.app = app
        self.plain = self._stack(app, secret_key, secure=False)
        self.secure = self._stack(app, secret_key, secure=True)

    @staticmethod
    def _stack(app: ASGIApp, secret_key: str, secure: bool) -> ASGIApp:
        protected = asgi_csrf(app, signing_secret=secret_key, cookie_name=CSRF_COOKIE,
                              cookie_secure=secure, skip_if_scope=_is_api,
                              always_protect={"/login"}, send_csrf_failed=csrf_failed)
        return SessionMiddleware(protected, secret_key=secret_key, session_cookie=SESSION_COOKIE,
                                 max_age=SESSION_MAX_AGE, same_site="lax", https_only=secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        path = scope["path"]
        static = path.startswith(STATIC_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not static:
                    # Pages and API answers carry personal data: never keep them in a
                    # shared tablet's cache or the back-forward cache after log-out.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await (self.secure if https else self.plain)(scope, receive, send_with_headers)
