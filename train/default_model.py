"""Find, or build on first use, the embedded default model that every agent uses unless given ``--model``.

The model lives outside git, in ``$PROMPTLESS_HOME/models/default-<preset>`` (``~/.cache/promptless/...``
without the variable). A folder counts as complete only when its ``COMPLETE`` marker exists: bootstrap
writes it last, so an interrupted build is rebuilt, never half-loaded.

Example::

    from train.default_model import resolve_default_model
    path = resolve_default_model()             # builds it the first time (51 minutes on a 2-core Xeon)
    path = resolve_default_model(build=False)  # raises DefaultModelMissing with how to build it
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from train.paths import promptless_home
from train.presets import Preset, default_preset_name, get_preset

MARKER = "COMPLETE"  # same name as train.bootstrap.MARKER (kept here so that lookups need no torch import)


class DefaultModelMissing(FileNotFoundError):
    """The default model is not built and building was not allowed."""


def default_model_dir(preset: str | None = None) -> Path:
    """Folder of the default model of ``preset`` (default: gpu with CUDA, else cpu)."""
    name = preset or default_preset_name()
    get_preset(name)  # clear error on an unknown preset
    return promptless_home() / "models" / f"default-{name}"


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished bootstrap build."""
    return (
        _marker(folder) is not None
        and (Path(folder) / "config.json").is_file()
        and (Path(folder) / "tokenizer.json").is_file()
    )


def _marker(folder: Path) -> dict[str, object] | None:
    marker = Path(folder) / MARKER
    if not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def is_current(folder: Path, preset: str) -> bool:
    """Whether ``folder`` was built by the ``preset`` of this release (same fingerprint), not an older one."""
    marker = _marker(folder) or {}
    return marker.get("preset_fingerprint") == get_preset(preset).fingerprint()


def resolve_default_model(build: bool = True, preset: str | None = None) -> Path:
    """Return the default model's folder, building it first when it is missing, unfinished or built by an
    older version of the preset, and ``build`` is true."""
    name = preset or default_preset_name()
    folder = default_model_dir(name)
    complete = is_complete(folder)
    if complete and is_current(folder, name):
        return folder
    spec = get_preset(name)
    state = "was built by an older version of its preset" if complete else "is not built"
    if not build:
        raise DefaultModelMissing(
            f"the default model ({name} preset) {state}: {folder} has no current finished model. "
            f"Build it with `python -m train.bootstrap --preset {name}` "
            f"({_duration(spec)}), or pass --model PATH_OR_URL."
        )
    from train.bootstrap import BootstrapConfig, bootstrap

    print(
        f"promptless: the default model {state}; building it ({name} preset, {_duration(spec)}) "
        f"into {folder}; later runs reuse it.",
        file=sys.stderr,
        flush=True,
    )
    return bootstrap(BootstrapConfig(preset=spec, out=folder))


def _duration(spec: Preset) -> str:
    """The expected build time, said with what it rests on: the cpu build took 18 minutes on a 2-core AMD
    EPYC VM (v8) and 51 on a 2-core Intel Xeon VM (v9; docs/benchmarks.md), so a bare figure would mislead."""
    if not spec.timed:
        return f"about {spec.expected_minutes:.0f} min, an estimate: the {spec.name} preset has not been timed yet"
    return f"about {spec.expected_minutes:.0f} min on the 2-core VM it was timed on, up to 3x on a slower CPU"
