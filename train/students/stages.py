"""A cached stage folder: items appended one JSON line at a time, finished by a ``COMPLETE`` marker.

Why: synthesis is minutes of model time per env, and a run may be killed at any point. Each finished item
is appended and fsynced at once, so a rerun reads what is there, skips those items and appends the rest;
a torn last line (killed mid-write) is cut away first. The marker, written last and atomically, records the
stage's config, item count and data hash: a folder without it is unfinished, never used as if complete.

Example::

    stage = Stage(folder, config={"env": "shop"})
    with stage.writer() as write:
        for item in todo(stage.done_keys()):
            write(item)            # must carry a "key"
    stage.finish()
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MARKER = "COMPLETE"
ITEMS = "items.jsonl"


class Stage:
    """One stage's folder: ``items.jsonl``, ``config.json`` and, once finished, ``COMPLETE``."""

    def __init__(self, folder: Path, config: dict[str, Any]):
        self.folder = Path(folder)
        self.config = config
        self.path = self.folder / ITEMS

    @property
    def complete(self) -> bool:
        return (self.folder / MARKER).is_file()

    def items(self) -> list[dict[str, Any]]:
        """Every whole item written so far (a torn last line is left out)."""
        if not self.path.is_file():
            return []
        out = []
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
        return out

    def done_keys(self) -> set[str]:
        return {str(item["key"]) for item in self.items()}

    @contextlib.contextmanager
    def writer(self) -> Iterator[Callable[[dict[str, Any]], None]]:
        """Append items durably; thread-safe writes are the caller's (one writer thread)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_json(self.folder / "config.json", self.config)
        _cut_torn_tail(self.path)
        with open(self.path, "a", encoding="utf-8") as f:

            def write(item: dict[str, Any]) -> None:
                if "key" not in item:
                    raise ValueError("every stage item needs a 'key'")
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())

            yield write

    def finish(self, **metrics: Any) -> dict[str, Any]:
        """Write the marker: item count, data hash and the caller's metrics."""
        items = self.items()
        digest = hashlib.sha256(self.path.read_bytes() if self.path.is_file() else b"").hexdigest()[:16]
        marker = {"items": len(items), "data_hash": digest, "config": self.config, **metrics}
        _write_json(self.folder / MARKER, marker)
        return marker

    def marker(self) -> dict[str, Any]:
        return json.loads((self.folder / MARKER).read_text())


def _cut_torn_tail(path: Path) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as f:
            f.truncate(keep)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
