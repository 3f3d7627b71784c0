"""Runs the examples' own tests from hubcore's repository (``pytest examples``).

pytest takes ``pytest_plugins`` only from a top-level conftest: each example's
``tests/conftest.py`` is one when the example is tested on its own, not from here.
"""

pytest_plugins = ["hubcore.testing"]
