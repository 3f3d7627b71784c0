"""The OpenAPI 3.1 document, generated from the operations and their pydantic models.

Nothing here is typed by hand that a model already says: request and response
schemas, and the query parameters, all come from ``model_json_schema``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import hubcore
from hubcore.api.http import API_PREFIX, MAX_BODY_BYTES, Operation
from hubcore.api.models import ApiError

REF = "#/components/schemas/{model}"

_ID = {"type": "integer", "minimum": 1}

# Descriptions of path parameters; any other ``<thing>_id`` (a plugin's) is described
# from its name by path_param().
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "site": {"schema": {"type": "string"}, "description": "The site's slug"},
    "room_id": {"schema": _ID, "description": "A room of the site"},
    "person_id": {"schema": _ID, "description": "A person of the site"},
    "household_id": {"schema": _ID, "description": "A household of the site"},
    "booking_id": {"schema": _ID, "description": "A booking of the site"},
    "invoice_id": {"schema": _ID, "description": "An invoice or credit note of the site"},
    "payment_id": {"schema": _ID, "description": "A payment at the site"},
}


def path_param(name: str) -> dict[str, Any]:
    if name in PATH_PARAMS:
        return PATH_PARAMS[name]
    if name.endswith("_id"):
        return {"schema": _ID, "description": f"The id of a {name[:-3].replace('_', ' ')} "
                                              "of the site"}
    return {"schema": {"type": "string"}, "description": name.replace("_", " ")}


TAGS = [
    {"name": "meta", "description": "This API and its description"},
    {"name": "sites", "description": "Municipalities and their sites"},
    {"name": "rooms", "description": "Rooms of a site"},
    {"name": "people", "description": "People registered at a site"},
    {"name": "households", "description": "Households (the payers) of a site"},
    {"name": "plugins", "description": "Installed plugins and where they are on"},
    {"name": "calendar", "description": "Room bookings and their occurrences"},
    {"name": "billing", "description": "Invoices, credit notes and payments"},
]


def _tags(operations: list[Operation]) -> list[dict[str, str]]:
    """The core's tags, then any a plugin's operations use, in order of first use."""
    known = {t["name"] for t in TAGS}
    extra = dict.fromkeys(op.tag for op in operations if op.tag not in known)
    return TAGS + [{"name": t} for t in extra]

DESCRIPTION = """\
JSON API of hubcore for integrations (the web pages never need it).

* Bodies and answers are JSON in UTF-8; field names are snake_case.
* Every error has the shape of `ApiError`. A 422 names each refused field in
  `fields`, with a message in the request's language (`?lang=ja|en`, Japanese by
  default); nothing is saved when an answer is not 2xx.
* Records of another site answer 404, exactly like records that do not exist.
* PATCH changes only the fields it is given; the result must still be valid as a whole.

**Authentication**: send an API token as `Authorization: Bearer hc_…` (create one on
your account page or with `hubcore user token create`). A token sees exactly what its
user sees — another municipality's or site's records answer 404 — and may be limited
to reading (403 on writes) and to one site. Revoked tokens answer 401.
"""


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="ApiError")}}}}


RESPONSES = {
    "NotFound": _error("No such site or record at this site"),
    "Invalid": _error("Invalid fields (see `fields`); nothing was saved"),
    "BadRequest": _error("The body is not JSON, or not a JSON object"),
    "UnsupportedMediaType": _error("The body was not sent as application/json"),
    "TooLarge": _error(f"The body is larger than {MAX_BODY_BYTES} bytes"),
    "Unauthorized": _error("No token, or a token that is unknown, revoked or of an "
                           "inactive user"),
    "Forbidden": _error("The user's role does not allow this, or the token is read-only"),
}


def _ref_response(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _patch_name(model: type[BaseModel]) -> str:
    return model.__name__.removesuffix("In") + "Patch"


def _schemas(operations: list[Operation]) -> dict[str, Any]:
    """Component schemas of every model, inputs in validation mode, outputs in serialisation."""
    pairs: dict[tuple[type[BaseModel], str], None] = {(ApiError, "serialization"): None}
    for op in operations:
        if op.response is not None:
            pairs[(op.response, "serialization")] = None
        if op.body is not None:
            pairs[(op.body, "validation")] = None
        for _description, model in op.errors.values():
            pairs[(model, "serialization")] = None
    _, top = models_json_schema(list(pairs), ref_template=REF)
    schemas = dict(sorted(top.get("$defs", {}).items()))
    for op in operations:
        if op.partial and op.body is not None:
            # The same fields, none required: derived, so it follows the model.
            patch = copy.deepcopy(schemas[op.body.__name__])
            patch.pop("required", None)
            patch["title"] = _patch_name(op.body)
            patch["description"] = (f"Any of the fields of {op.body.__name__}; the others keep "
                                    "their current values.")
            schemas[_patch_name(op.body)] = patch
    return schemas


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    assert "$defs" not in schema, f"{model.__name__}: query parameters must be simple values"
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required,
                                 "schema": {k: v for k, v in prop.items() if k != "description"}}
        if prop.get("description") or prop.get("title"):
            param["description"] = prop.get("description") or prop["title"]
        out.append(param)
    return out


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                           "tags": [op.tag]}
    if op.description:
        doc["description"] = op.description
    params = [{"name": p, "in": "path", "required": True, **path_param(p)}
              for p in op.path_params]
    if op.query is not None:
        params += _query_parameters(op.query)
    doc["parameters"] = params
    if op.body is not None:
        name = _patch_name(op.body) if op.partial else op.body.__name__
        doc["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": REF.format(model=name)}}}}
    if op.response is None:
        schema: dict[str, Any] = {"type": "object"}
    else:
        schema = {"$ref": REF.format(model=op.response.__name__)}
        if op.many:
            schema = {"type": "array", "items": schema}
    responses: dict[str, Any] = {str(op.status): {
        "description": op.summary, "content": {"application/json": {"schema": schema}}}}
    if op.status == 201:
        responses["201"]["headers"] = {"Location": {
            "description": "The new record's URL", "schema": {"type": "string"}}}
    if op.body is not None:
        responses["400"] = _ref_response("BadRequest")
    if op.action != "public":
        responses["401"] = _ref_response("Unauthorized")
        doc["security"] = [{"bearerToken": []}]
    else:
        doc["security"] = []
    if op.action not in ("public", "login") or op.method != "GET":
        responses["403"] = _ref_response("Forbidden")
    if op.path_params:
        responses["404"] = _ref_response("NotFound")
    if op.body is not None:
        responses["413"] = _ref_response("TooLarge")
        responses["415"] = _ref_response("UnsupportedMediaType")
    if op.body is not None or op.query is not None:
        responses["422"] = _ref_response("Invalid")
    for status, (description, model) in op.errors.items():
        responses[str(status)] = {"description": description, "content": {
            "application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}}
    doc["responses"] = responses
    return doc


def build_document(operations: Iterable[Operation]) -> dict[str, Any]:
    operations = list(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(API_PREFIX + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "hubcore API", "version": hubcore.__version__,
                 "description": DESCRIPTION},
        "tags": _tags(operations),
        "paths": paths,
        "components": {"schemas": _schemas(operations), "responses": RESPONSES,
                       "securitySchemes": {"bearerToken": {
                           "type": "http", "scheme": "bearer",
                           "description": "An API token (hc_…) of a hubcore user"}}},
    }
