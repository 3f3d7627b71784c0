"""Settings from the environment and the instance folder."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INSTANCE = "instance"


@dataclass
class Settings:
    instance: Path
    database_url: str
    secret_key: str
    debug: bool = False

    @property
    def sqlite_path(self) -> Path:
        return self.instance / "hubcore.sqlite3"


def instance_path() -> Path:
    return Path(os.environ.get("HUBCORE_INSTANCE", DEFAULT_INSTANCE)).resolve()


def secret_key_path(instance: Path) -> Path:
    return instance / "secret_key"


def ensure_secret_key(instance: Path) -> str:
    """Read the instance's secret key, writing a new random one on first use."""
    path = secret_key_path(instance)
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def load_settings(instance: Path | None = None) -> Settings:
    instance = instance or instance_path()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'hubcore.sqlite3'}"
    key = os.environ.get("HUBCORE_SECRET_KEY") or ensure_secret_key(instance)
    return Settings(
        instance=instance,
        database_url=url,
        secret_key=key,
        debug=os.environ.get("HUBCORE_DEBUG") == "1",
    )
