"""hubcore's test fixtures, and the plugin importable whether it is installed or not."""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("hubcore_noticeboard") is None:
    # Not pip-installed: import the source tree; the tests then register the module
    # themselves. src/ leaves sys.path again at once (submodules are found through the
    # package), so a src/*.egg-info left by an earlier `pip install -e` cannot make
    # hubcore discover the plugin as installed for the whole test session.
    src = str(Path(__file__).resolve().parent.parent / "src")
    sys.path.insert(0, src)
    try:
        import hubcore_noticeboard  # noqa: F401
    finally:
        sys.path.remove(src)

# The fixtures database, settings, client, ... (each test runs on SQLite and PostgreSQL).
# pytest takes pytest_plugins only from a top-level conftest, which this file is when
# the plugin is tested on its own; run from hubcore's repository (`pytest examples`),
# examples/conftest.py has loaded hubcore.testing already.
if "hubcore.testing" not in sys.modules:
    pytest_plugins = ["hubcore.testing"]
