"""Accounts, roles and permissions. What plugins use:

- ``Action``: declare a permission in the ``register_actions`` hook;
- ``requires``, ``login_required``, ``public``: the decision each route carries;
- ``Principal``: ``request.state.principal``, with ``can()`` and ``require()``.
"""

from hubcore.auth.actions import Action
from hubcore.auth.guard import login_required, public, requires
from hubcore.auth.permissions import Forbidden, Principal

__all__ = ["Action", "Forbidden", "Principal", "login_required", "public", "requires"]
