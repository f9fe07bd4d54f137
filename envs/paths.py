"""Where promptless keeps what it fetches or builds outside git: upstream data, corpora, models.

``$PROMPTLESS_HOME`` when set, else ``~/.cache/promptless``. It lives in ``envs/`` because the envs read
upstream data from it and may not import ``train/``; ``train.paths`` re-exports it.

Example::

    from envs.paths import data_home
    prompts = data_home() / "agentbench-prompts"
"""

from __future__ import annotations

import os
from pathlib import Path


def promptless_home() -> Path:
    """The root folder of promptless' caches (not created here)."""
    env = os.environ.get("PROMPTLESS_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "promptless"


def data_home() -> Path:
    """The folder that holds one sub-folder per upstream data set (not created here)."""
    return promptless_home() / "data"
