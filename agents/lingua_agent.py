"""The LLMLingua-2 agents: the teacher's base model given the env's prompt compressed by ``agents.lingua``.

``llmlingua2-30``, ``-50`` and ``-70`` drop that share of the prompt's tokens (``llmlingua2`` alone means
``-50``). Each prompt message's content is compressed (once per distinct prompt, then reused) and the
compressed messages stand where the full prompt stands for the teacher: same template, same back-end, same
accounting, so the leaderboard's prompt tokens and FLOPs are those of the compressed prompt. The classifier's
own (small) cost, paid once per prompt, is not charged to the episodes.

The classifier folder is the ``adapter`` of the registry call: ``harness.run`` builds the project's own per env
(``train.compress``), or the user passes an official LLMLingua-2 folder with ``--compressor PATH``.

Example::

    agent = make_lingua_agent("llmlingua2-50", env_name="os", model="models/tiny", adapter=classifier_dir)
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from agents.base import EpisodeState
from agents.lingua import NAME_TAGS, LinguaCompressor
from agents.model_agent import ModelAgent
from envs.core import Message

#: Share of prompt tokens removed when the agent's name gives none.
DEFAULT_REMOVED = 0.5
_NAME = re.compile(r"^llmlingua2(?:-(\d{1,2}))?$")

_COMPRESSORS: dict[str, LinguaCompressor] = {}
_COMPRESSORS_LOCK = threading.Lock()


def removed_share(name: str) -> float:
    """The share of prompt tokens that agent ``name`` removes: ``llmlingua2-30`` -> 0.3."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not an llmlingua2 agent name (llmlingua2 or llmlingua2-NN)")
    return int(match.group(1)) / 100 if match.group(1) else DEFAULT_REMOVED


def resolve_compressor(env_name: str, folder: str | Path | None) -> Path:
    """The classifier folder for ``env_name``: ``folder/<env_name>/`` or ``folder`` itself, or a sub-folder of
    either whose name the package dispatches on (the layout ``harness.train --out`` writes)."""
    hint = f"build one with `python -m harness.train --method llmlingua2 --env {env_name}`"
    if folder is None:
        raise FileNotFoundError(f"llmlingua2 needs a classifier folder (--compressor PATH); {hint}")
    root = Path(folder)
    for candidate in (root / env_name, root):
        if (candidate / "config.json").is_file():
            return candidate
        named = sorted(
            p.parent for p in candidate.glob("*/config.json") if any(t in p.parent.name for t in NAME_TAGS)
        )
        if named:
            return named[0]
    raise FileNotFoundError(f"no classifier for env {env_name!r} in {str(root)!r} (no config.json); {hint}")


def shared_compressor(folder: Path, device: str | None = None) -> LinguaCompressor:
    """One loaded compressor per folder and device for the whole process."""
    key = f"{folder.resolve()}|{device}"
    with _COMPRESSORS_LOCK:
        if key not in _COMPRESSORS:
            _COMPRESSORS[key] = LinguaCompressor(folder, device=device)
        return _COMPRESSORS[key]


class CompressedPromptAgent(ModelAgent):
    """A prompted ``ModelAgent`` whose prompt is first compressed (cached per distinct prompt)."""

    def __init__(
        self, name: str, backend: Any, compressor: LinguaCompressor, removed: float, **generation: Any
    ):
        super().__init__(name, backend, use_prompt=True, **generation)
        self.compressor = compressor
        self.removed = removed
        self._cache: dict[tuple[tuple[str, str], ...], list[Message]] = {}
        self._lock = threading.Lock()

    def compressed(self, prompt: list[Message]) -> list[Message]:
        key = tuple((m["role"], m["content"]) for m in prompt)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self.compressor.compress_messages(prompt, self.removed)
            return self._cache[key]

    def messages(self, state: EpisodeState) -> list[dict[str, str]]:
        full = super().messages(state)
        prompt = self.compressed(list(state.prompt))
        return [{"role": m["role"], "content": m["content"]} for m in prompt] + full[len(state.prompt) :]


def make_lingua_agent(
    name: str, *, env_name: str, model: str | None, adapter: str | None, **options: Any
) -> CompressedPromptAgent:
    """The registry's factory for the ``llmlingua2*`` names (``adapter`` is the classifier folder)."""
    from agents.model_agent import generation_for
    from agents.registry import AGENT_OPTIONS, NO_MODEL_MESSAGE, get_backend

    if model is None:
        raise ValueError(NO_MODEL_MESSAGE)
    removed = removed_share(name)
    folder = resolve_compressor(env_name, adapter)
    generation = generation_for(env_name)
    generation |= {k: v for k, v in options.items() if k in AGENT_OPTIONS}
    backend = get_backend(model, None, **{k: v for k, v in options.items() if k not in AGENT_OPTIONS})
    compressor = shared_compressor(folder)
    return CompressedPromptAgent(name, backend, compressor, removed, **generation)
