"""The gist agents: base model + LoRA, the env's prompt compressed into k gist tokens' K/V (``agents.gist``).

``gist-1``, ``gist-2`` and ``gist-5`` run k = 1, 2 and 5 gists (``gist`` alone: the k of its folder, 1 when
``harness.run`` builds it), each its own leaderboard row.

The gists' K/V are computed once per distinct prompt and kept (``GistCache``: its size in bytes is the
compressed prompt's); each reply is decoded against them at the original positions. Accounting: the
conversation's tokens plus the k gists are the prompt tokens, the k gists are ``cached_tokens`` (not
recomputed, not in the FLOPs).

Example::

    agent = make_gist_agent("gist-2", env_name="os", model="models/tiny", adapter=".../gist/os/<recipe>")
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
from agents.gist import GIST_FILE, GistCache, gist_cache, greedy
from envs.core import Message


class GistModel:
    """Base model + LoRA + gist embedding loaded from a folder ``train.compress`` wrote; thread-safe."""

    def __init__(self, model_path: str | Path, folder: str | Path, device: str | None = None):
        self.model, self.tokenizer, self.device, dtype = load_compressor_model(model_path, folder, device)
        saved = torch.load(Path(folder) / GIST_FILE, map_location=self.device)
        self.gist = saved["gist"].to(dtype)
        self.dims = ModelDims.from_model(self.model)
        eos = self.tokenizer.eos_token_id
        self.eos_ids = [int(eos)] if eos is not None else []
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self._caches: dict[tuple[tuple[str, str], ...], tuple[list[int], GistCache]] = {}
        self._lock = threading.Lock()

    def prompt_cache(self, prompt: list[Message]) -> tuple[list[int], GistCache]:
        """The prompt's ids and its gist K/V, computed once per distinct prompt."""
        key = tuple((m["role"], m["content"]) for m in prompt)
        if key not in self._caches:
            ids = encode_messages(self.tokenizer, prompt, generation=False)
            self._caches[key] = (ids, gist_cache(self.model, self.gist.to(self.device), ids))
        return self._caches[key]

    def generate(
        self, prompt: list[Message], messages: list[Message], max_new_tokens: int, stop: list[str]
    ) -> Reply:
        started = time.monotonic()
        with self._lock:
            prompt_ids, cache = self.prompt_cache(prompt)
            full = encode_messages(self.tokenizer, prompt + messages, generation=True)
            conv = conversation_after_prompt(prompt_ids, full)
            done = stop_check(self.tokenizer, stop)

            tokens = greedy(self.model, cache, [conv], [max_new_tokens], self.eos_ids, self.pad_id, done)[0]
            text, tokens = reply_text(self.tokenizer, tokens, self.eos_ids, stop)
        k = cache.keys[0].shape[2]
        return compressed_reply(text, self.dims, len(conv), k, len(tokens), started)


def encode_messages(tokenizer: Any, messages: list[Message], generation: bool) -> list[int]:
    """Ids as training laid them out (``train.students.examples.render``'s rules, no import of train/)."""
    from agents.backends.hf import PLAIN_GENERATION_PROMPT, PLAIN_TEMPLATE

    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    text = "".join(PLAIN_TEMPLATE.format(role=m["role"], content=m["content"]) for m in messages)
    return tokenizer(text + (PLAIN_GENERATION_PROMPT if generation else ""))["input_ids"]


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
        ("gist", model, str(folder)), lambda: GistModel(model, folder, device=options.get("device"))
    )
    return CompressedPromptAgent(name, loaded, **generation_options(env_name, options))
