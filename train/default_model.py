"""Find the embedded default model that every agent uses unless given ``--model``.

The model is a release artifact: its weights, tokenizer and provenance ship in the repository under
``models/default-<preset>/`` (``SHIPPED_DIR``), so nobody has to train it to use the project. Looked up in
order: the shipped folder, then a local build in ``$PROMPTLESS_HOME/models/default-<preset>``
(``~/.cache/promptless/...`` without the variable), then, when allowed, a build from scratch
(``python -m train.bootstrap``). A folder counts only when its ``COMPLETE`` marker exists (bootstrap writes
it last, so an interrupted build is never half-loaded) and names the current preset's fingerprint (a preset
change without new weights is never silently used).

Example::

    from train.default_model import resolve_default_model
    path = resolve_default_model()             # the shipped model
    path = resolve_default_model(build=False)  # raises DefaultModelMissing with how to build it
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from train.paths import promptless_home
from train.presets import Preset, default_preset_name, get_preset

MARKER = "COMPLETE"  # same name as train.bootstrap.MARKER (kept here so that lookups need no torch import)
#: Where the shipped default models live: ``models/`` at the repository root.
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "models"


class DefaultModelMissing(FileNotFoundError):
    """The default model is not built and building was not allowed."""


def default_model_dir(preset: str | None = None) -> Path:
    """Folder of the default model of ``preset`` (default: gpu with CUDA, else cpu)."""
    name = preset or default_preset_name()
    get_preset(name)  # clear error on an unknown preset
    return promptless_home() / "models" / f"default-{name}"


def shipped_model_dir(preset: str | None = None) -> Path:
    """Folder of the default model of ``preset`` as shipped in the repository (it may be absent)."""
    name = preset or default_preset_name()
    get_preset(name)
    return SHIPPED_DIR / f"default-{name}"


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
    """Return the default model's folder: the shipped one, else a local build, else (when ``build`` is true)
    one built now; a folder built by an older version of the preset never counts."""
    name = preset or default_preset_name()
    shipped = shipped_model_dir(name)
    if is_complete(shipped) and is_current(shipped, name):
        return shipped
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
    """The expected build time, said with what it rests on: the same build's time differs up to 3x between
    2-core VMs (docs/benchmarks.md), so a bare figure would mislead."""
    if not spec.timed:
        return f"about {spec.expected_minutes:.0f} min, an estimate: the {spec.name} preset has not been timed yet"
    return f"about {spec.expected_minutes:.0f} min on the 2-core VM it was timed on, up to 3x on a slower CPU"
