"""The run's log of finished episodes: one JSON line each in ``episodes.jsonl``, durable and resumable.

A line is appended, flushed and fsynced as soon as its episode ends, so a killed run loses at most the
episodes in flight. A kill in the middle of a write leaves a torn last line (no newline at the end): readers
ignore it and ``repair_tail`` cuts it away before a resumed run appends again. When one task has several
records (an errored episode retried), the latest wins.

Example::

    log = EpisodeLog(Path("results/runs/oracle/episodes.jsonl"))
    log.append(record)
    done = {key for key, rec in latest(read_records(log.path)).items() if rec["error"] is None}
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agents.rollout import EpisodeRecord

#: Fields of ``Usage`` summed per episode, in the order they are written.
USAGE_FIELDS = ("calls", "prompt_tokens", "cached_tokens", "generated_tokens", "wall_s", "flops")


class ResultsError(ValueError):
    """A results file is damaged somewhere other than its last line; the message names file and line."""


class EpisodeLog:
    """Appends records to a JSONL file; safe to call from several threads at once."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Opened once: appends from one process never interleave, and fsync makes each line durable.
        self._file = open(self.path, "a", encoding="utf-8")

    def append(self, record: EpisodeRecord | dict[str, Any]) -> None:
        data = record.to_dict() if isinstance(record, EpisodeRecord) else record
        line = json.dumps(data, ensure_ascii=False, allow_nan=False, default=_json_default) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> EpisodeLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(value: Any) -> Any:
    # numpy scalars and paths reach records through env metrics and configs.
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def repair_tail(path: Path) -> int:
    """Cut a torn last line (bytes after the last newline) off ``path``; return how many bytes were cut."""
    if not path.exists():
        return 0
    with open(path, "rb+") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        # Walk back from the end in blocks to find the last newline without reading a large file.
        pos, keep = size, 0
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            idx = block.rfind(b"\n")
            if idx >= 0:
                keep = pos + idx + 1
                break
        if keep < size:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        return size - keep


def read_records(path: Path, *, strict: bool = True) -> list[dict[str, Any]]:
    """All complete records of ``path`` in file order; a torn last line is skipped.

    A damaged line elsewhere raises ``ResultsError`` (``strict``) or is skipped with a warning.
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop()  # after the last newline: empty, or a torn line
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
            if not isinstance(rec, dict) or "env" not in rec or "task_id" not in rec:
                raise ValueError("not an episode record")
        except ValueError as exc:
            message = f"{path}:{number}: damaged episode record ({exc})"
            if strict:
                raise ResultsError(message) from None
            warnings.warn(message, stacklevel=2)
            continue
        records.append(rec)
    if torn.strip():
        warnings.warn(
            f"{path}: ignoring a torn last line ({len(torn)} bytes) from an interrupted run", stacklevel=2
        )
    return records


def latest(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest record of each ``(env, task_id)``, in order of first appearance."""
    result: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in records:
        result[(rec["env"], rec["task_id"])] = rec
    return result
