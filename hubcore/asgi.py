"""The ASGI application for uvicorn/gunicorn: ``uvicorn hubcore.asgi:app``."""

import sys

from hubcore.app import create_app
from hubcore.db import DatabaseURLError

try:
    app = create_app()
except DatabaseURLError as exc:  # one clear line instead of a traceback
    print(f"hubcore: {exc}", file=sys.stderr)
    sys.exit(2)
