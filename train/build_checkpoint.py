"""Checkpoints of a default-model build, so that a killed build continues where it stopped.

Why: a build of the cpu preset trains for one to two hours; a crash, a reboot, a SIGKILL or a Ctrl-C near
the end must not cost the whole build. When the main phase starts (after the copy warm-up and its stretch
stage) and then every ``checkpoint_every`` main-phase steps, the build writes its whole state: the weights, the
optimizer's moments, the copy drill's generator, torch's global generator, the next step and the logs
(``BuildSteps.state_dict``). A rerun of the same command loads it and continues from that step; the batch
stream is replayed up to it, so the finished weights are those of an uninterrupted build, bit for bit on the
same machine (a test checks it).

A checkpoint is only taken up by a build of the same preset fingerprint, corpus, tokenizer, precision and
thread count (``checkpoint_key``); any other build ignores it and overwrites it. The folder lives inside the
output folder and is removed once the model is saved.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerFast

from train.presets import Preset

CHECKPOINT_DIR = ".build-checkpoint"
STATE_FILE = "state.pt"
CHECKPOINT_FORMAT = 1  # raised when the saved state's layout changes, so an older checkpoint is ignored


def checkpoint_key(
    preset: Preset, data_hash: str | None, tok: PreTrainedTokenizerFast, bf16: bool, threads: int
) -> str:
    """What a checkpoint must match to be continued: another value of any of these trains another model."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "preset": preset.fingerprint(),
        "data_hash": data_hash,
        "tokenizer": hashlib.sha256(tok.backend_tokenizer.to_str().encode()).hexdigest(),
        "bf16": bf16,
        "threads": threads,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def save_checkpoint(out: Path, key: str, state: dict[str, Any]) -> None:
    """Write ``state`` under ``key`` atomically: a kill during the write leaves the previous checkpoint."""
    folder = out / CHECKPOINT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (STATE_FILE + ".tmp")
    torch.save({"key": key, **state}, tmp)
    os.replace(tmp, folder / STATE_FILE)


def load_checkpoint(out: Path, key: str) -> dict[str, Any] | None:
    """The state saved under ``key`` in ``out``, or None when there is none or it belongs to another build."""
    path = out / CHECKPOINT_DIR / STATE_FILE
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.pop("key", None) != key:
        return None
    return state


def clear_checkpoint(out: Path) -> None:
    """Remove the checkpoint folder of a finished build."""
    folder = out / CHECKPOINT_DIR
    for name in (STATE_FILE, STATE_FILE + ".tmp"):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir():
        folder.rmdir()
