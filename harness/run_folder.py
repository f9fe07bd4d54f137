"""The run folder: an exclusive lock while a run writes, atomic JSON writes, the versions behind a result, and
the check that a resumed run continues the same config (agent, split, model, data files, generation options),
and the model's label.

The label (``model_label``) is recorded in ``summary.json`` when the run starts, because a model folder can be
replaced in place (a new default model ships in ``models/default-cpu``): a label read later from the folder
would credit an old run to the new weights, and a resumed run would mix episodes of two models.

Layout::

    DIR/episodes.jsonl   one line per finished episode (see harness.records), all envs, append-only
    DIR/summary.json     config, per-env score ± stderr and costs, versions; status running/complete/...
    DIR/.lock            held while a run writes here, so two runs never interleave
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any

from agents.backends.base import normalize_base_url
from harness.plugins import UsageError
from harness.run_config import RESUME_KEYS, RESUME_OPTIONS, SECRET_OPTIONS, RunConfig


def versions() -> dict[str, str | None]:
    """Versions that identify the code behind a result: Python, packages, git commit (when in a checkout)."""

    def pkg(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        commit = out.stdout.strip() or None if out.returncode == 0 else None
    return {
        "python": platform.python_version(),
        "promptless": pkg("promptless"),
        "gymnasium": pkg("gymnasium"),
        "git_commit": commit,
    }


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to ``path`` through a temporary file and a rename: readers never see half a file."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` exclusively for the run; a second run on the same folder fails at once."""
    import fcntl  # POSIX only; the harness targets Linux and macOS

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(
            f"--out {folder} is a file or lies under one: give a folder for the results"
        ) from None
    with open(folder / ".lock", "w") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another run is writing to {folder}; wait for it or use another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def check_resumable(config: RunConfig, out: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The previous summary, after checking that this run may continue that folder."""
    # key=str: a record without an agent gives None, which does not compare with the names.
    others = sorted({r.get("agent") for r in records} - {config.agent}, key=str)
    if others:
        raise UsageError(
            f"{out} holds episodes of agent {others[0]!r}, not {config.agent!r}; use another --out"
        )
    path = out / "summary.json"
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}  # a damaged summary is rebuilt from the episodes
    if not isinstance(previous, dict):
        raise UsageError(
            f"{path} holds a JSON {type(previous).__name__}, not the run summary object; "
            "remove it to rebuild it from the episodes, or use another --out"
        )
    current = resolved_fields(config)
    before = {**previous, "model": _same_model(previous.get("model"))}
    diffs = [f"{k}: {before.get(k)!r} -> {current[k]!r}" for k in RESUME_KEYS if before.get(k) != current[k]]
    old_options = previous.get("agent_options")
    if not isinstance(old_options, dict):
        old_options = {}
    diffs += [
        f"{k}: {old_options.get(k)!r} -> {current['agent_options'].get(k)!r}"
        for k in RESUME_OPTIONS
        if old_options.get(k) != current["agent_options"].get(k)
    ]
    recorded, label = previous.get("model_label"), current["model_label"]
    if recorded and recorded != label:
        diffs.append(f"the model at {current['model']} is now {label!r}, the run began with {recorded!r}")
    if diffs:
        raise UsageError(
            f"cannot resume {out} with a different config ({'; '.join(diffs)}); use another --out"
        )
    return previous


def resolved_fields(config: RunConfig) -> dict[str, Any]:
    """The config as recorded in ``summary.json``."""
    data = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in ("envs", "out")}
    data["agent_options"] = {k: v for k, v in config.agent_options if k not in SECRET_OPTIONS}
    data["model_label"] = model_label(config.model)
    return data


def model_label(model: str | None) -> str:
    """A model as the leaderboard names it: a server URL as given; a local folder by its name, with the preset
    fingerprint when it is the embedded model (its ``COMPLETE`` marker); "" for model-free agents."""
    if not model:
        return ""
    if str(model).startswith(("http://", "https://")):
        return str(model)
    folder = Path(model)
    try:
        fingerprint = json.loads((folder / "COMPLETE").read_text()).get("preset_fingerprint")
    except (OSError, ValueError, AttributeError):
        fingerprint = None
    return f"{folder.name}@{fingerprint}" if fingerprint else folder.name


def _same_model(model: Any) -> Any:
    """A recorded model as this version spells it (server URLs normalized), for comparing on resume."""
    if isinstance(model, str) and model.startswith(("http://", "https://")):
        return normalize_base_url(model)
    return model
