"""Errors that operations raise and the web layer turns into answers."""

from __future__ import annotations


class NotFound(Exception):
    """The thing asked for does not exist (or is not to be revealed): 404."""


class Invalid(Exception):
    """Input was refused; ``errors`` maps each field to a translated message. Nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
