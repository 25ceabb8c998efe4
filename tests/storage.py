"""Where a test finds stored ciphertext: published, or still waiting for its batch."""

from __future__ import annotations

from pathlib import Path

from portal.store import Store


def blob_path(data_dir: Path, name: str) -> Path:
    """The stored ciphertext file called `name`, wherever it is now."""
    return Store(Path(data_dir) / "store").path(name)


def blob_files(data_dir: Path) -> list[Path]:
    """Every stored ciphertext file, published or waiting (not partial writes)."""
    store = Store(Path(data_dir) / "store")
    return sorted(store.path(name) for name in store.names())
