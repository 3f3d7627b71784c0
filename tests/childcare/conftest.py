"""Fixtures for the childcare plugin's tests; factories are in plugins.childcare.testing."""

from __future__ import annotations

import pytest

from plugins.childcare.testing import childcare_site


@pytest.fixture
def cc_site(database):
    """The test site with childcare on, its care room 和室 (10 children) and ホール."""
    return childcare_site()
