"""The ICAE agent: the env's prompt enters as memory slots read by the frozen base model (``agents.icae``).

Per distinct prompt the encoder (base model + LoRA) computes the slots once, and the frozen decoder (the
adapter disabled) their K/V once; that K/V is kept. Replies are decoded against it, the conversation
following the slots as it did in fine-tuning, the concurrent episodes' replies together
(``agents.compressed_model``). Accounting: the conversation's tokens plus the slots are the
prompt tokens, the slots are ``cached_tokens`` (computed once per env, not in the FLOPs), like the gist
agent's gists.

Example::

    agent = make_icae_agent("icae", env_name="os", model="models/tiny", adapter=".../icae/os/<recipe>")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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
from agents.gist import GistCache
from agents.icae import ICAE_FILE, IcaeParams, frozen_decoder, prompt_slots, slots_cache


class IcaeModel(CompressedPromptModel):
    """Base model + encoder LoRA + memory embeddings loaded from a folder ``train.compress`` wrote;
    thread-safe (the adapter is switched off around decoding, on the batcher's one thread)."""

    def load_compressor(self, folder: Path) -> None:
        self.params = IcaeParams.load(folder / ICAE_FILE, self.device, self.dtype)

    def compress(self, prompt_ids: list[int]) -> GistCache:
        """The slots' K/V in the frozen decoder (the encoder, adapter on, makes the slots)."""
        with torch.inference_mode():
            slots = prompt_slots(self.model, self.params, prompt_ids)
        return slots_cache(self.model, slots)

    @contextlib.contextmanager
    def decoding(self) -> Iterator[None]:
        """The frozen decoder: the base model without the encoder's adapter."""
        with frozen_decoder(self.model):
            yield


def make_icae_agent(
    name: str, *, env_name: str, model: str | None, adapter: str | None, **options: Any
) -> CompressedPromptAgent:
    """The registry's factory for ``icae`` (``adapter``: the folder ``train.compress`` built for the env)."""
    from agents.registry import NO_MODEL_MESSAGE

    if model is None:
        raise ValueError(NO_MODEL_MESSAGE)
    folder = compressor_folder(name, env_name, adapter, artifact=ICAE_FILE, method="icae")
    loaded = shared_model(
        ("icae", model, str(folder)),
        lambda: IcaeModel(model, folder, device=options.get("device"), max_batch=options.get("max_batch", 8)),
    )
    return CompressedPromptAgent(name, loaded, **generation_options(env_name, options))
