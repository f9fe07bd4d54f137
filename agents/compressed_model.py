"""The model side of the compressed-prompt agents (``gist``, ``icae``): batched decoding against a cached,
compressed prompt.

Concurrent episodes each ask for one reply at a time; decoding them one by one leaves the model's batch
dimension idle. Every ``generate`` call goes to one micro-batcher (``agents.backends.batcher``); its batch
is grouped by prompt, because the compressed prompt's K/V (``agents.gist.GistCache``) is per prompt, and each
group's conversations are decoded together by ``agents.gist.greedy`` (left-padded rows against one cache, at
the original positions). All model work runs on the batcher's one thread, so no lock is needed.

A subclass says only what differs: how a prompt's ids become its ``GistCache`` (``compress``) and the context
decoding runs in (``decoding``: ICAE's frozen decoder).

Example::

    class GistModel(CompressedPromptModel):
        def compress(self, prompt_ids):
            return gist_cache(self.model, self.gist, prompt_ids)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agents.accounting import ModelDims
from agents.backends.batcher import MicroBatcher
from agents.backends.hf import encode_messages
from agents.base import Reply
from agents.compressed_agent import (
    compressed_reply,
    conversation_after_prompt,
    load_compressor_model,
    reply_text,
    stop_check,
)
from agents.gist import GistCache, greedy
from envs.core import Message

PromptKey = tuple[tuple[str, str], ...]


@dataclass
class _Call:
    prompt: list[Message]
    messages: list[Message]
    max_new_tokens: int
    stop: list[str]
    submitted: float


@dataclass
class _Row:
    """A call ready to decode: its conversation's ids behind the prompt, and its prompt's cache."""

    index: int
    call: _Call
    conversation: list[int]
    cache: GistCache


class CompressedPromptModel:
    """Base model + compressor loaded from a folder ``train.compress`` wrote; replies decoded in batches
    against each prompt's compressed form, computed once per distinct prompt; thread-safe."""

    def __init__(
        self,
        model_path: str | Path,
        folder: str | Path,
        device: str | None = None,
        *,
        max_batch: int = 8,
        batch_wait_s: float = 0.005,
    ):
        self.model, self.tokenizer, self.device, self.dtype = load_compressor_model(
            model_path, folder, device
        )
        self.dims = ModelDims.from_model(self.model)
        eos = self.tokenizer.eos_token_id
        self.eos_ids = [int(eos)] if eos is not None else []
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self._caches: dict[PromptKey, tuple[list[int], GistCache]] = {}
        self.batches_run = 0  # greedy calls made, and the replies they decoded
        self.requests_run = 0
        self.load_compressor(Path(folder))
        self._batcher: MicroBatcher[_Call, Reply] = MicroBatcher(
            self._run, max_batch=max_batch, wait_s=batch_wait_s, name=f"{type(self).__name__}-batcher"
        )

    # ------------------------------------------------------------------------------------ what differs
    def load_compressor(self, folder: Path) -> None:
        """Load the compressor's own weights from ``folder`` (the base model and its LoRA are loaded)."""
        raise NotImplementedError

    def compress(self, prompt_ids: list[int]) -> GistCache:
        """The prompt's compressed form: the K/V that decoding reads in its place."""
        raise NotImplementedError

    @contextlib.contextmanager
    def decoding(self) -> Iterator[None]:
        """The context ``greedy`` runs in (the model as it is, unless a subclass says otherwise)."""
        yield

    # ------------------------------------------------------------------------------------------- public
    def prompt_cache(self, prompt: list[Message]) -> tuple[list[int], GistCache]:
        """The prompt's ids and its compressed form, computed once per distinct prompt."""
        key = prompt_key(prompt)
        if key not in self._caches:
            ids = encode_messages(self.tokenizer, prompt, generation=False)
            self._caches[key] = (ids, self.compress(ids))
        return self._caches[key]

    def generate(
        self, prompt: list[Message], messages: list[Message], max_new_tokens: int, stop: list[str]
    ) -> Reply:
        """The reply to ``messages`` behind the compressed ``prompt``; blocks until its batch ran."""
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        return self._batcher.call(_Call(prompt, messages, max_new_tokens, list(stop), time.monotonic()))

    def close(self) -> None:
        """Answer the queued calls, then stop the batching thread."""
        self._batcher.close()

    # ------------------------------------------------------------------------------------------- worker
    def _run(self, calls: list[_Call]) -> list[Reply | Exception]:
        """The batcher's callback: per prompt, one ``greedy`` over its calls' conversations."""
        results: list[Reply | Exception | None] = [None] * len(calls)
        groups: dict[int, list[_Row]] = {}  # by the prompt's cache: one per distinct prompt
        for i, call in enumerate(calls):
            try:  # a bad call (its prompt tokenizes otherwise in context) fails alone
                prompt_ids, cache = self.prompt_cache(call.prompt)
                full = encode_messages(self.tokenizer, call.prompt + call.messages, generation=True)
                row = _Row(i, call, conversation_after_prompt(prompt_ids, full), cache)
            except Exception as exc:
                results[i] = exc
                continue
            groups.setdefault(id(cache), []).append(row)
        for rows in groups.values():
            try:
                for row, reply in zip(rows, self._decode(rows), strict=True):
                    results[row.index] = reply
            except Exception as exc:  # a model error fails this group's calls only
                for row in rows:
                    results[row.index] = exc
        return [r for r in results if r is not None]

    def _decode(self, rows: list[_Row]) -> list[Reply]:
        cache = rows[0].cache
        checks = [stop_check(self.tokenizer, row.call.stop) for row in rows]
        limits = [row.call.max_new_tokens for row in rows]
        convs = [row.conversation for row in rows]
        with self.decoding():
            decoded = greedy(
                self.model, cache, convs, limits, self.eos_ids, self.pad_id, lambda i, t: checks[i](i, t)
            )
        self.batches_run += 1
        self.requests_run += len(rows)
        compressed = cache.keys[0].shape[2]  # the gists or slots: the positions the cache holds
        replies = []
        for row, tokens in zip(rows, decoded, strict=True):
            text, tokens = reply_text(self.tokenizer, tokens, self.eos_ids, row.call.stop)
            replies.append(
                compressed_reply(
                    text, self.dims, len(row.conversation), compressed, len(tokens), row.call.submitted
                )
            )
        return replies


def prompt_key(prompt: list[Message]) -> PromptKey:
    return tuple((m["role"], m["content"]) for m in prompt)
