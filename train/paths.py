"""Where promptless keeps what it builds outside git: corpora and the default model.

``$PROMPTLESS_HOME`` when set, else ``~/.cache/promptless``. The helper itself lives in :mod:`envs.paths`
(the envs read their upstream data from the same place and may not import ``train/``).

Example::

    from train.paths import promptless_home
    corpus_dir = promptless_home() / "corpus"
"""

from __future__ import annotations

from envs.paths import promptless_home

__all__ = ["promptless_home"]
