"""What every API endpoint shares: one route per path, JSON bodies, JSON errors.

An endpoint is an :class:`Operation`: its handler plus what the OpenAPI document
says about it (models, status, parameters). Routes and the document are both built
from the same list of operations, so neither can describe an endpoint the other lacks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio.from_thread
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hubcore import db
from hubcore.api.models import ApiError
from hubcore.auth.permissions import Principal
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.sites.models import Site
from hubcore.sites.operations import get_site
from hubcore.web import sync_endpoint

# Bodies are a few fields; anything near this size is a mistake or an attack.
MAX_BODY_BYTES = 1024 * 1024


class ApiProblem(Exception):
    """An answer other than 404/422 that an endpoint gives instead of its result."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class ApiCall:
    """One request as a handler sees it: the site loaded, query and body parsed."""

    request: Request
    site: Site | None
    query: Any  # an instance of the operation's query model, or None
    body: dict[str, Any]
    principal: Principal | None = None  # None only on public operations
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers

    def path_id(self, name: str) -> str:
        """An id from the path, as given: the area's get_* (db.get_in_site) answers
        NotFound for anything that is not an id of this site."""
        return self.request.path_params[name]

    def url(self, *parts: object) -> str:
        """An absolute path under /api/v1 (for links and Location)."""
        return API_PREFIX + "/" + "/".join(str(p).strip("/") for p in parts)

    @property
    def site_slug(self) -> str:
        assert self.site is not None
        return self.site.slug


API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Operation:
    """An endpoint and its description for the OpenAPI document."""

    method: str
    path: str  # relative to /api/v1, in the {name} syntax shared by Starlette and OpenAPI
    handler: Callable[[ApiCall], Any]
    operation_id: str
    summary: str
    tag: str
    response: type[BaseModel] | None  # None: a free-form JSON object
    many: bool = False  # the response is a JSON array of `response`
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    partial: bool = False  # PATCH: any subset of the body model's fields
    description: str = ""
    # Other answers the handler gives itself (status: (description, model)), e.g. 409.
    errors: dict[int, tuple[str, type[BaseModel]]] = field(default_factory=dict)
    # The permission decision: "public", "login" (any valid token), or an action name
    # checked at the site in the path. Required: an operation without one is refused
    # when the app is built.
    action: str = ""

    def __post_init__(self) -> None:
        if not self.action:
            raise ValueError(f"API operation {self.operation_id} has no permission decision "
                             "(action='public', 'login' or an action name)")

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ApiError(error=code, message=message, fields=fields or {})
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                            and media.endswith("+json"))


class _TooLarge(Exception):
    """The body went past MAX_BODY_BYTES."""


async def _read_limited(request: Request) -> bytes:
    # Stop reading at the limit rather than hold whatever a client streams at us.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, from a plain ``def`` endpoint (a worker thread).

    JSON only, by Content-Type (and the API takes bearer tokens only, never cookies, so a
    cross-site form could not act for a logged-in user anyway).
    """
    if not _is_json(request.headers.get("content-type", "")):
        raise ApiProblem(415, "unsupported_media_type",
                         _("Send the body as JSON, with Content-Type: application/json."))
    try:
        data = json.loads(anyio.from_thread.run(_read_limited, request))
    except _TooLarge:
        raise ApiProblem(413, "too_large", _("The body is too large.")) from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise ApiProblem(400, "bad_request", _("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiProblem(400, "bad_request", _("The body must be a JSON object."))
    return data


def _serialise(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_serialise(r) for r in result]
    return result


def bearer_principal(request: Request) -> Principal | None:
    """The principal of the request's ``Authorization: Bearer`` token, or None."""
    from hubcore.auth.operations import live_token
    from hubcore.auth.permissions import principal_for_token

    scheme, _sep, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    token = live_token(secret.strip())
    return principal_for_token(token) if token else None


def _authorise(op: Operation, request: Request) -> tuple[Principal | None, Site | None]:
    """Who is calling and the site of the path, or ApiProblem/NotFound/Forbidden."""
    from hubcore.audit.operations import Actor, current_actor
    from hubcore.auth.guard import client_ip

    principal = None
    if op.action != "public":
        principal = bearer_principal(request)
        if principal is None:
            raise ApiProblem(401, "unauthorized",
                             _("Send a valid API token: Authorization: Bearer <token>."))
        current_actor.set(Actor(principal.user.id, principal.user.email, client_ip(request)))
        if principal.read_only and op.method not in ("GET", "HEAD"):
            raise ApiProblem(403, "read_only_token", _("This token may only read."))
    site = get_site(request.path_params["site"]) if "site" in op.path_params else None
    if site is not None and (principal is None or not principal.can_see_site(site)):
        raise NotFound(site.slug)  # another tenant's site does not exist for this caller
    if principal is not None and op.action not in ("public", "login"):
        principal.require(op.action, site=site)
    return principal, site


def run_operation(op: Operation, request: Request) -> Response:
    """Open a connection, check the token, load the site, parse input, call the handler,
    answer JSON."""
    from hubcore.auth.permissions import Forbidden

    try:
        with db.database.connection_context():
            principal, site = _authorise(op, request)
            query = validate(op.query, dict(request.query_params)) if op.query else None
            body = read_json_object(request) if op.body is not None else {}
            call = ApiCall(request, site, query, body, principal)
            result = op.handler(call)
    except Forbidden:
        return error_response(403, "forbidden", _("Your role does not allow this here."))
    except ApiProblem as exc:
        if exc.status == 401:
            return error_response(401, exc.code, exc.message,
                                  headers={"WWW-Authenticate": 'Bearer realm="hubcore"'})
        return error_response(exc.status, exc.code, exc.message)
    except NotFound:
        # Also for another site's record: never say that it exists elsewhere.
        return error_response(404, "not_found", _("Not found."))
    except Invalid as exc:
        return error_response(422, "invalid", _("Some fields are not valid. Nothing was saved."),
                              exc.errors)
    if isinstance(result, Response):
        return result
    return JSONResponse(_serialise(result), status_code=op.status, headers=call.headers)


class ApiRoute(Route):
    """All operations of one path in one route, so that a 405 lists every allowed method
    and has the API's error shape (one Route per method would list only the first's)."""

    def __init__(self, path: str, operations: Iterable[Operation]) -> None:
        self.operations = {op.method: op for op in operations}
        super().__init__(path, sync_endpoint(self.dispatch), methods=list(self.operations),
                         name="api:" + self.operations[next(iter(self.operations))].operation_id)

    def dispatch(self, request: Request) -> Response:
        # Through sync_endpoint: inline for SQLite reads, else in the thread pool.
        method = "GET" if request.method == "HEAD" else request.method
        return run_operation(self.operations[method], request)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            response = error_response(405, "method_not_allowed",
                                      _("This method is not allowed here."),
                                      headers={"Allow": ", ".join(sorted(self.methods))})
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)


def routes_for(operations: Iterable[Operation]) -> list[Route]:
    by_path: dict[str, list[Operation]] = {}
    for op in operations:
        by_path.setdefault(op.path, []).append(op)
    return [ApiRoute(path, ops) for path, ops in by_path.items()]
