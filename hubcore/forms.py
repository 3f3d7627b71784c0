"""Validation with pydantic, answering in the user's language with the field named."""

from __future__ import annotations

import unicodedata
from typing import Any, TypeVar

import pydantic
from starlette.datastructures import FormData

from hubcore.errors import Invalid
from hubcore.i18n import N_
from hubcore.i18n import gettext as _

# Field titles are English message ids; they are translated when a message is built.
_MESSAGES = {
    "missing": N_("{label} is required."),
    "string_too_short": N_("{label} is required."),
    "string_too_long": N_("{label} must be at most {max_length} characters."),
    "int_parsing": N_("{label} must be a whole number."),
    "int_from_float": N_("{label} must be a whole number."),
    "int_type": N_("{label} must be a whole number."),
    "greater_than_equal": N_("{label} must be {ge} or more."),
    "greater_than": N_("{label} must be more than {gt}."),
    "less_than_equal": N_("{label} must be {le} or less."),
    "date_parsing": N_("{label} must be a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("{label} must be a date (YYYY-MM-DD)."),
    "date_type": N_("{label} must be a date (YYYY-MM-DD)."),
    "bool_parsing": N_("{label} must be yes or no."),
    "string_pattern_mismatch": N_("{label} is not in the expected format."),
    "literal_error": N_("{label} has a value that is not allowed."),
    "enum": N_("{label} has a value that is not allowed."),
    "extra_forbidden": N_("{label} is not a known field."),
}


def _label(schema: type[pydantic.BaseModel], field: str) -> str:
    info = schema.model_fields.get(field)
    return _(info.title) if info is not None and info.title else field


def errors_of(schema: type[pydantic.BaseModel], exc: pydantic.ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "__all__"
        if field in out:
            continue
        label = _label(schema, field)
        if err["type"] == "value_error":
            # Our own validators raise ValueError with an already translated message.
            msg = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            template = _MESSAGES.get(err["type"], N_("{label} is not valid."))
            msg = _(template).format(label=label, **{k: v for k, v in err.get("ctx", {}).items()
                                                     if k != "label"})
        out[field] = msg
    return out


T = TypeVar("T", bound=pydantic.BaseModel)


def validate(schema: type[T], data: dict[str, Any]) -> T:
    """Validate ``data`` or raise Invalid with one translated message per field."""
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise Invalid(errors_of(schema, exc)) from None


def form_dict(form: FormData, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """A form as a dict: values trimmed and NFKC-normalised (全角数字 → digits),
    empty fields left out so optional ones fall to their defaults, checkboxes as lists.
    The CSRF token is left out too: the middleware has checked it already."""
    out: dict[str, Any] = {}
    for key in set(form.keys()) - {"csrftoken"}:
        if key in lists:
            out[key] = [v for v in form.getlist(key) if isinstance(v, str) and v]
            continue
        value = form.get(key)
        if not isinstance(value, str):
            continue
        value = value.strip()
        if value == "":
            continue
        out[key] = value
    return out


def nfkc(value: Any) -> Any:
    """For validators of numbers, dates, phones, postcodes: full-width → half-width."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value
