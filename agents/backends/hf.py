"""A local Hugging Face causal LM as a back-end: batched greedy generation, optional prefix KV caching.

- Any local model folder that ``AutoModelForCausalLM`` loads, with an optional peft adapter on top.
- Prompt: the tokenizer's chat template when it has one; else the plain template documented at
  ``PLAIN_TEMPLATE`` (whose role markers then also act as stop strings).
- Decoding is greedy by default; ``temperature > 0`` samples from the softmax at that temperature (no
  top-k/top-p cut, whatever the model's generation config says, so that the setting means one thing), and
  ``temperature=0`` is greedy. Generation ends at the end-of-turn (EOS) token, at a stop string (the text is cut
  before it, OpenAI-style) or at ``max_new_tokens``.
- Devices: bf16 on CUDA, fp32 on CPU; 4-bit NF4 (bitsandbytes, double quantization, bf16 compute) on CUDA
  by default (``load_in_4bit=None`` means "when CUDA"), and a clear error when asked for without CUDA.
- Batching: calls from several threads (concurrent episodes) are queued; one worker thread
  (``agents.backends.batcher``) gathers them for ``batch_wait_s`` up to ``max_batch``, left-pads them and
  generates them together.
- Prefix caching (``prefix_cache=True``): prompts that share a long token prefix (an env's fixed prompt)
  reuse that prefix's KV cache instead of recomputing it. Prefixes are found automatically: when a prompt
  matches no cached prefix, its longest common token prefix with recent prompts (at least
  ``min_prefix_tokens``) is computed once and kept (least recently used out, ``max_prefixes`` kept). A new
  prefix is only made for a prompt that no cached prefix covers, so an env's prompt stays cached while its
  episodes go on. Calls on this path run one at a time on a copy of the cache; their reused tokens are
  counted as ``cached_tokens`` and not in the FLOPs.
- Prompts longer than the model's ``max_position_embeddings``: ``truncation="error"`` (default) raises a
  ``ValueError`` naming the lengths; ``truncation="left"`` drops the oldest tokens (the start of the prompt!)
  so that the prompt and ``max_new_tokens`` fit, and logs a warning. When the prompt fits but the prompt plus
  ``max_new_tokens`` does not, generation is cut at the model's limit (finish reason "length").

Usage per call: its own prompt tokens, cached tokens, generated tokens (up to and including the token that
ended it), wall time from the call to its result (queueing included: it is what the episode waits) and FLOPs
from ``agents.accounting`` (padding in a batch is not charged).

Example::

    backend = HFBackend("models/tiny", prefix_cache=True)
    completion = backend.generate(messages, max_new_tokens=96, stop=["\\nObservation:"])
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DynamicCache,
    StoppingCriteria,
    StoppingCriteriaList,
)

from agents.accounting import ModelDims, call_flops
from agents.backends.base import BackendError, Completion, cut_at_stop
from agents.backends.batcher import MicroBatcher
from agents.base import Usage
from envs.core import Message

log = logging.getLogger(__name__)

#: Rendering of a conversation for a tokenizer without a chat template: each message as
#: ``<|role|>\n{content}\n``, then ``<|assistant|>\n`` to ask for the reply. The tokenizer adds its own
#: special tokens (e.g. BOS) when encoding.
PLAIN_TEMPLATE = "<|{role}|>\n{content}\n"
PLAIN_GENERATION_PROMPT = "<|assistant|>\n"
PLAIN_STOPS = ("<|user|>", "<|assistant|>", "<|system|>")

_DTYPES = {
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}
_DTYPES |= {"float32": torch.float32, "fp32": torch.float32}


def render_plain(messages: Sequence[Message], generation: bool = True) -> str:
    """The plain template (see ``PLAIN_TEMPLATE``) applied to ``messages``, ending with the reply marker
    when ``generation``."""
    text = "".join(PLAIN_TEMPLATE.format(role=m["role"], content=m["content"]) for m in messages)
    return text + (PLAIN_GENERATION_PROMPT if generation else "")


def render_messages(tokenizer: Any, messages: Sequence[Message], generation: bool = False) -> str:
    """``messages`` as text under the tokenizer's chat template, else the plain template; with the reply's
    opening when ``generation``. Training and inference both render through here, so they agree."""
    if getattr(tokenizer, "chat_template", None):
        # transformers annotates plain dicts; a Message TypedDict is one at runtime.
        conversation = cast("list[dict[str, str]]", list(messages))
        return tokenizer.apply_chat_template(conversation, add_generation_prompt=generation, tokenize=False)
    return render_plain(messages, generation)


def encode_messages(tokenizer: Any, messages: Sequence[Message], generation: bool = True) -> list[int]:
    """Token ids of ``render_messages``: a chat template brings its own special tokens, the plain template
    gets the tokenizer's. Not thread-safe (fast tokenizers refuse concurrent use)."""
    plain = not getattr(tokenizer, "chat_template", None)
    return tokenizer(render_messages(tokenizer, messages, generation), add_special_tokens=plain)["input_ids"]


@dataclass
class _Request:
    ids: list[int]
    max_new_tokens: int
    stop: tuple[str, ...]
    submitted: float


class _StopOnStrings(StoppingCriteria):
    """Per-row stop: a row is done once its text holds a stop string or it reached its own token limit."""

    def __init__(
        self,
        decode: Callable[[list[int]], str],
        prompt_width: int,
        stops: list[tuple[str, ...]],
        limits: list[int],
    ):
        self.decode = decode
        self.prompt_width = prompt_width
        self.stops = stops
        self.limits = limits
        self.done_at: list[int | None] = [None] * len(stops)
        # A stop string of k characters spans at most 4k byte-level tokens; decoding that tail is enough.
        self.windows = [4 * max((len(s) for s in row), default=0) + 4 for row in stops]

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        generated = input_ids[:, self.prompt_width :]
        n = generated.shape[1]
        done = []
        for i, row_stops in enumerate(self.stops):
            if self.done_at[i] is None:
                if n >= self.limits[i]:
                    self.done_at[i] = n
                elif row_stops:
                    tail = generated[i, max(0, n - self.windows[i]) :].tolist()
                    text = self.decode(tail)
                    if any(s in text for s in row_stops):
                        self.done_at[i] = n
            done.append(self.done_at[i] is not None)
        # transformers annotates the result with the legacy BoolTensor class; torch.tensor returns a Tensor.
        return cast(torch.BoolTensor, torch.tensor(done, dtype=torch.bool, device=input_ids.device))


class HFBackend:
    """A local causal LM (optionally with a peft adapter) behind the ``Backend`` protocol; thread-safe."""

    def __init__(
        self,
        model_path: str | Path,
        adapter: str | Path | None = None,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        load_in_4bit: bool | None = None,
        max_new_tokens: int = 512,
        prefix_cache: bool = False,
        max_batch: int = 8,
        temperature: float = 0.0,
        *,
        batch_wait_s: float = 0.005,
        truncation: Literal["error", "left"] = "error",
        max_prefixes: int = 8,
        min_prefix_tokens: int = 16,
    ):
        path = Path(model_path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"{str(model_path)!r} is not a local model folder (no config.json there); pass the folder of a "
                "saved Hugging Face causal LM, or build the embedded default with `python -m train.bootstrap`"
            )
        if truncation not in ("error", "left"):
            raise ValueError(f"truncation must be 'error' or 'left', got {truncation!r}")
        if max_batch < 1 or max_new_tokens < 1:
            raise ValueError("max_batch and max_new_tokens must be >= 1")
        if not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature < 0:
            raise ValueError(f"temperature must be a finite number >= 0 (0 is greedy), got {temperature!r}")
        self.temperature = float(temperature)
        self.model_path = path
        self.adapter = Path(adapter) if adapter is not None else None
        self.max_new_tokens = max_new_tokens
        self.prefix_cache = prefix_cache
        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_s
        self.truncation = truncation
        self.max_prefixes = max_prefixes
        self.min_prefix_tokens = max(1, min_prefix_tokens)
        self.name = path.name + (f"+{self.adapter.name}" if self.adapter else "")

        on_cuda_available = torch.cuda.is_available()
        self.device = torch.device(device or ("cuda" if on_cuda_available else "cpu"))
        on_cuda = self.device.type == "cuda"
        if on_cuda and not on_cuda_available:
            raise ValueError(f"device {device!r} asked for, but CUDA is not available here")
        self.load_in_4bit = on_cuda if load_in_4bit is None else load_in_4bit
        if self.load_in_4bit and not on_cuda:
            raise ValueError(
                "4-bit loading (bitsandbytes NF4) needs a CUDA device; none is in use here "
                f"(device={self.device}); pass load_in_4bit=False"
            )
        self.dtype = _resolve_dtype(dtype) or (torch.bfloat16 if on_cuda else torch.float32)

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = self._load_model(path)
        self.dims = ModelDims.from_model(self.model)
        self._uses_chat_template = bool(getattr(self.tokenizer, "chat_template", None))
        self._template_stops = () if self._uses_chat_template else PLAIN_STOPS
        self._eos_ids = self._end_token_ids()
        pad = self.tokenizer.pad_token_id
        self._pad_id = pad if pad is not None else self._eos_ids[0]

        # Fast tokenizers may refuse concurrent use ("Already borrowed"): every use goes through this lock.
        self._tokenizer_lock = threading.Lock()
        self._prefixes: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._recent: deque[tuple[int, ...]] = deque(maxlen=32)
        self.batches_run = 0  # forward-pass groups run by the batcher, and the requests they answered
        self.requests_run = 0
        self._batcher: MicroBatcher[_Request, Completion] = MicroBatcher(
            self._run,
            max_batch=max_batch,
            wait_s=batch_wait_s,
            name=f"hf-batcher-{self.name}",
            closed_error=lambda: BackendError("this HFBackend was closed"),
        )

    # ----------------------------------------------------------------------------------------------- loading
    def _load_model(self, path: Path) -> Any:
        kwargs: dict[str, Any] = {"dtype": self.dtype}
        if self.load_in_4bit:
            from transformers import (
                BitsAndBytesConfig,
            )  # imported here: bitsandbytes is CUDA-only in practice

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=torch.bfloat16,
            )
            kwargs["device_map"] = {"": self.device}
        # A Module to mypy: transformers' functools.wraps on PreTrainedModel.to hides its signature.
        model: torch.nn.Module = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        if not self.load_in_4bit:
            model = model.to(self.device)
        if self.adapter is not None:
            if not (self.adapter / "adapter_config.json").is_file():
                raise FileNotFoundError(
                    f"{str(self.adapter)!r} is not a peft adapter folder (no adapter_config.json)"
                )
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, self.adapter, is_trainable=False)
        model.eval()
        return model

    def _end_token_ids(self) -> list[int]:
        ids: list[int] = []
        configured = getattr(self.model.generation_config, "eos_token_id", None)
        for value in (configured, self.tokenizer.eos_token_id):
            for token in value if isinstance(value, list) else [value]:
                if token is not None and token not in ids:
                    ids.append(int(token))
        if not ids:
            raise ValueError(
                f"the tokenizer of {self.model_path} defines no EOS token; generation cannot end"
            )
        return ids

    # ------------------------------------------------------------------------------------------------ public
    def encode(self, messages: Sequence[Message]) -> list[int]:
        """Token ids of the rendered conversation, ready for the reply to be generated."""
        if not messages:
            raise ValueError("cannot generate from an empty message list")
        for i, message in enumerate(messages):
            if not isinstance(message.get("content"), str) or not isinstance(message.get("role"), str):
                raise ValueError(f"message {i} needs string 'role' and 'content' fields, got {message!r}")
        with self._tokenizer_lock:
            return encode_messages(self.tokenizer, messages)

    def generate(
        self, messages: list[Message], *, max_new_tokens: int | None = None, stop: Sequence[str] = ()
    ) -> Completion:
        """Completion of ``messages`` (greedy unless ``temperature``); blocks until the batcher ran it."""
        if self._batcher.closed:
            raise BackendError("this HFBackend was closed")
        submitted = time.monotonic()
        limit = self.max_new_tokens if max_new_tokens is None else max_new_tokens
        if limit < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {limit}")
        if isinstance(stop, str):
            raise TypeError("stop must be a list of strings, not a string")
        ids, limit = self._fit(self.encode(messages), limit)
        request = _Request(ids, limit, tuple(s for s in stop if s) + self._template_stops, submitted)
        return self._batcher.call(request)

    def close(self) -> None:
        """Stop the batching thread (calls queued before are answered first; later ones get an error)."""
        self._batcher.close()

    def _decode(self, ids: list[int]) -> str:
        with self._tokenizer_lock:
            # decode is annotated ``str | list[str]`` for every input; one sequence of ids gives a str.
            return cast(str, self.tokenizer.decode(ids, skip_special_tokens=True))

    def __enter__(self) -> HFBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fit(self, ids: list[int], limit: int) -> tuple[list[int], int]:
        max_pos = self.dims.max_positions
        if max_pos is None or len(ids) + limit <= max_pos:
            return ids, limit
        if self.truncation == "error":
            if len(ids) >= max_pos:
                raise ValueError(
                    f"the prompt has {len(ids)} tokens but {self.name} takes at most {max_pos} positions; "
                    "shorten the conversation or load the back-end with truncation='left'"
                )
            return ids, max_pos - len(ids)
        keep = max(1, max_pos - limit)
        log.warning(
            "prompt of %d tokens cut to its last %d (model limit %d positions)", len(ids), keep, max_pos
        )
        return ids[-keep:], min(limit, max_pos - keep)

    # ------------------------------------------------------------------------------------------------ worker
    def _run(self, batch: list[_Request]) -> list[Completion | Exception]:
        """The batcher's callback: prefix-cache hits one at a time, the other requests together."""
        results: list[Completion | Exception | None] = [None] * len(batch)
        plain: list[int] = []
        for i, request in enumerate(batch):
            if self.prefix_cache:
                try:
                    hit = self._prefix_for(request.ids)
                except Exception as exc:  # the caller gets the error; the others still run
                    results[i] = exc
                    continue
                if hit is not None:
                    results[i] = self._answer([request], hit)[0]
                    continue
            plain.append(i)
        if plain:
            for i, result in zip(plain, self._answer([batch[i] for i in plain], None), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def _answer(
        self, requests: list[_Request], hit: tuple[tuple[int, ...], Any, bool] | None
    ) -> list[Completion | Exception]:
        try:
            return list(self._generate(requests, hit))
        except Exception as exc:  # a model error goes to every request of this group, not to the others
            return [exc] * len(requests)

    def _generate(
        self, requests: list[_Request], hit: tuple[tuple[int, ...], Any, bool] | None
    ) -> list[Completion]:
        self.batches_run += 1
        self.requests_run += len(requests)
        width = max(len(r.ids) for r in requests)
        input_ids = torch.full((len(requests), width), self._pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(requests), width), dtype=torch.long)
        for row, request in enumerate(requests):
            input_ids[row, width - len(request.ids) :] = torch.tensor(request.ids, dtype=torch.long)
            attention_mask[row, width - len(request.ids) :] = 1
        criteria = _StopOnStrings(
            self._decode, width, [r.stop for r in requests], [r.max_new_tokens for r in requests]
        )
        extra: dict[str, Any] = {}
        cached = 0
        if hit is not None:
            prefix, cache, built_now = hit
            extra["cache"] = copy.deepcopy(cache)
            cached = 0 if built_now else len(prefix)  # the call that built the prefix paid for it
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                max_new_tokens=max(r.max_new_tokens for r in requests),
                num_beams=1,
                **self._sampling(),
                pad_token_id=self._pad_id,
                eos_token_id=self._eos_ids,
                stopping_criteria=StoppingCriteriaList([criteria]),
                **extra,
            )
        finished = time.monotonic()
        new_tokens = output[:, width:].tolist()
        completions = []
        for row, request in enumerate(requests):
            tokens = new_tokens[row][: request.max_new_tokens]
            count = len(tokens)
            ended_by_eos = False
            for i, token in enumerate(tokens):
                if token in self._eos_ids:
                    count, ended_by_eos = i + 1, True
                    break
            stopped_at = criteria.done_at[row]
            if stopped_at is not None and stopped_at < count:
                count, ended_by_eos = stopped_at, False
            text, stopped = cut_at_stop(self._decode(tokens[:count]), list(request.stop))
            usage = Usage(
                calls=1,
                prompt_tokens=len(request.ids),
                cached_tokens=cached,
                generated_tokens=count,
                wall_s=finished - request.submitted,
                flops=call_flops(
                    self.dims, prompt_tokens=len(request.ids), cached_tokens=cached, generated_tokens=count
                ),
            )
            completions.append(Completion(text, usage, "stop" if (stopped or ended_by_eos) else "length"))
        return completions

    def _sampling(self) -> dict[str, Any]:
        """``generate`` arguments for this back-end's temperature (see the module docstring)."""
        if self.temperature == 0:
            return {"do_sample": False}
        return {"do_sample": True, "temperature": self.temperature, "top_k": 0, "top_p": 1.0}

    # ------------------------------------------------------------------------------------------ prefix cache
    def _prefix_for(self, ids: list[int]) -> tuple[tuple[int, ...], Any, bool] | None:
        """The cached prefix to use for ``ids`` (built now if worth it), as (prefix ids, cache, built now)."""
        key = tuple(ids)
        best: tuple[int, ...] | None = None
        for prefix in self._prefixes:
            if (
                len(prefix) < len(key)
                and (best is None or len(prefix) > len(best))
                and key[: len(prefix)] == prefix
            ):
                best = prefix
        if best is not None:
            self._prefixes.move_to_end(best)
            return best, self._prefixes[best], False
        shared = max((_common_prefix_len(key, other) for other in self._recent), default=0)
        self._recent.append(key)
        shared = min(shared, len(key) - 1)  # at least one token must run to yield the next-token logits
        if shared < self.min_prefix_tokens:
            return None
        prefix = key[:shared]
        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode():
            self.model(
                input_ids=torch.tensor([prefix], dtype=torch.long, device=self.device),
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            )
        self._prefixes[prefix] = cache
        while len(self._prefixes) > self.max_prefixes:
            self._prefixes.popitem(last=False)
        return prefix, cache, True


def _common_prefix_len(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {sorted(_DTYPES)}") from None
