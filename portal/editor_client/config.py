"""Where portal-editor keeps its settings and token: one JSON file, mode 0600."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "penname" / "editor.json"


@dataclass
class Config:
    server: str = ""
    username: str = ""
    token: str = ""
    # A short-lived token with the reencrypt scope (managing editors), kept apart.
    reencrypt_token: str = ""
    proxy: str = ""
    # The language of the reports sync writes ("" = the locale's).
    language: str = ""
    # Submission id -> the state and file names seen at the last sync ("new since last sync").
    seen: dict[str, str] = field(default_factory=dict)
    # The newest key or account change `list` has shown.
    changes_seen: int = 0

    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        os.replace(partial, path)
