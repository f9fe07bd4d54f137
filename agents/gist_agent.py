"""The gist agents: base model + LoRA, the env's prompt compressed into k gist tokens' K/V (``agents.gist``).

``gist-1``, ``gist-2`` and ``gist-5`` run k = 1, 2 and 5 gists (``gist`` alone: the k of its folder, 1 when
``harness.run`` builds it), each its own leaderboard row.

The gists' K/V are computed once per distinct prompt and kept (``GistCache``: its size in bytes is the
compressed prompt's); replies are decoded against them at the original positions, the concurrent
episodes' replies together (``agents.compressed_model``). Accounting: the conversation's tokens plus the k
gists are the prompt tokens, the k gists are ``cached_tokens`` (not recomputed, not in the FLOPs).

Example::

    agent = make_gist_agent("gist-2", env_name="os", model="models/tiny", adapter=".../gist/os/<recipe>")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from agents.compressed_agent import (
    CompressedPromptAgent,
    compressor_folder,
    generation_options,
    shared_model,
)
from agents.compressed_model import CompressedPromptModel
from agents.gist import GIST_FILE, GistCache, gist_cache


class GistModel(CompressedPromptModel):
    """Base model + LoRA + gist embedding loaded from a folder ``train.compress`` wrote; thread-safe."""

    def load_compressor(self, folder: Path) -> None:
        saved = torch.load(folder / GIST_FILE, map_location=self.device)
        self.gist = saved["gist"].to(self.dtype)

    def compress(self, prompt_ids: list[int]) -> GistCache:
        """The gists' K/V after the prompt (the prompt's own K/V is not kept)."""
        return gist_cache(self.model, self.gist, prompt_ids)


def make_gist_agent(
    name: str, *, env_name: str, model: str | None, adapter: str | None, **options: Any
) -> CompressedPromptAgent:
    """The registry's factory for ``gist`` and ``gist-K`` (``adapter``: the folder ``train.compress`` built
    for the env; a ``gist-K`` name must match the k saved there)."""
    from agents.registry import NO_MODEL_MESSAGE, gist_k

    if model is None:
        raise ValueError(NO_MODEL_MESSAGE)
    folder = compressor_folder(name, env_name, adapter, artifact=GIST_FILE, method="gist")
    want = gist_k(name)
    if want is not None:
        k = int(torch.load(folder / GIST_FILE, map_location="cpu")["k"])
        if k != want:
            raise ValueError(f"agent {name!r} runs {want} gist tokens, but {str(folder)!r} holds {k}")
    loaded = shared_model(
        ("gist", model, str(folder)),
        lambda: GistModel(model, folder, device=options.get("device"), max_batch=options.get("max_batch", 8)),
    )
    return CompressedPromptAgent(name, loaded, **generation_options(env_name, options))
