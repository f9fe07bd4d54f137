"""The ICAE agent: the env's prompt enters as memory slots read by the frozen base model (``agents.icae``).

Per distinct prompt the encoder (base model + LoRA) computes the slots once, and the frozen decoder (the
adapter disabled) their K/V once; both are kept. Each reply is decoded against that K/V, the conversation
following the slots as it did in fine-tuning. Accounting: the conversation's tokens plus the slots are the
prompt tokens, the slots are ``cached_tokens`` (computed once per env, not in the FLOPs), like the gist
agent's gists.

Example::

    agent = make_icae_agent("icae", env_name="os", model="models/tiny", adapter=".../icae/os/<recipe>")
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import torch

from agents.accounting import ModelDims
from agents.base import Reply
from agents.compressed_agent import (
    CompressedPromptAgent,
    compressed_reply,
    compressor_folder,
    conversation_after_prompt,
    generation_options,
    load_compressor_model,
    reply_text,
    shared_model,
    stop_check,
)
from agents.gist import GistCache, greedy
from agents.gist_agent import encode_messages
from agents.icae import ICAE_FILE, IcaeParams, frozen_decoder, prompt_slots, slots_cache
from envs.core import Message


class IcaeModel:
    """Base model + encoder LoRA + memory embeddings loaded from a folder ``train.compress`` wrote;
    thread-safe (one reply at a time: the adapter is switched off and on around decoding)."""

    def __init__(self, model_path: str | Path, folder: str | Path, device: str | None = None):
        self.model, self.tokenizer, self.device, dtype = load_compressor_model(model_path, folder, device)
        self.params = IcaeParams.load(Path(folder) / ICAE_FILE, self.device, dtype)
        self.dims = ModelDims.from_model(self.model)
        eos = self.tokenizer.eos_token_id
        self.eos_ids = [int(eos)] if eos is not None else []
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self._caches: dict[tuple[tuple[str, str], ...], tuple[list[int], torch.Tensor, GistCache]] = {}
        self._lock = threading.Lock()

    def prompt_cache(self, prompt: list[Message]) -> tuple[list[int], torch.Tensor, GistCache]:
        """The prompt's ids, its slots and their decoder K/V, computed once per distinct prompt."""
        key = tuple((m["role"], m["content"]) for m in prompt)
        if key not in self._caches:
            ids = encode_messages(self.tokenizer, prompt, generation=False)
            with torch.inference_mode():
                slots = prompt_slots(self.model, self.params, ids)
            self._caches[key] = (ids, slots, slots_cache(self.model, slots))
        return self._caches[key]

    def generate(
        self, prompt: list[Message], messages: list[Message], max_new_tokens: int, stop: list[str]
    ) -> Reply:
        started = time.monotonic()
        with self._lock:
            prompt_ids, _, cache = self.prompt_cache(prompt)
            full = encode_messages(self.tokenizer, prompt + messages, generation=True)
            conv = conversation_after_prompt(prompt_ids, full)
            done = stop_check(self.tokenizer, stop)

            with frozen_decoder(self.model):
                tokens = greedy(self.model, cache, [conv], [max_new_tokens], self.eos_ids, self.pad_id, done)[
                    0
                ]
            text, tokens = reply_text(self.tokenizer, tokens, self.eos_ids, stop)
        slots = cache.offset
        return compressed_reply(text, self.dims, len(conv), slots, len(tokens), started)


def make_icae_agent(
    name: str, *, env_name: str, model: str | None, adapter: str | None, **options: Any
) -> CompressedPromptAgent:
    """The registry's factory for ``icae`` (``adapter``: the folder ``train.compress`` built for the env)."""
    from agents.registry import NO_MODEL_MESSAGE

    if model is None:
        raise ValueError(NO_MODEL_MESSAGE)
    folder = compressor_folder(name, env_name, adapter, artifact=ICAE_FILE, method="icae")
    loaded = shared_model(
        ("icae", model, str(folder)), lambda: IcaeModel(model, folder, device=options.get("device"))
    )
    return CompressedPromptAgent(name, loaded, **generation_options(env_name, options))
