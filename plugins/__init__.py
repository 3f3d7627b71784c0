"""hubcore's program plugins, each registered through the ``hubcore`` entry point
exactly like a third party's (see pyproject.toml); nothing in the core imports them."""
