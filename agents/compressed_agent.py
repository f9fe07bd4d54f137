"""What the agents that read a compressed prompt share (``gist``, ``icae``): the agent, the lookup of the
compressor folder ``train.compress`` built for an env, and one loaded model per (base model, folder), so that
the episodes of a run share its weights and its cached prompt.

Example::

    folder = compressor_folder("icae", "shop", "adapters/icae", artifact="icae.pt", method="icae")
    agent = CompressedPromptAgent("icae", shared_model((model, str(folder)), lambda: IcaeModel(model, folder)),
                                  **generation_options("shop", {}))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast

from agents.base import EpisodeState, Reply


class PromptCompressingModel(Protocol):
    """A model that decodes a reply from the conversation and its prompt's compressed form."""

    def generate(
        self,
        prompt: list[dict[str, str]],
        messages: list[dict[str, str]],
        max_new_tokens: int,
        stop: list[str],
    ) -> Reply: ...


class CompressedPromptAgent:
    """Replies from a model that sees the env's prompt only in its compressed form (gist K/V, ICAE slots)."""

    def __init__(
        self, name: str, model: PromptCompressingModel, max_new_tokens: int = 256, stop: tuple[str, ...] = ()
    ):
        self.name = name
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.stop = tuple(stop)

    def reply(self, state: EpisodeState) -> Reply:
        messages = [{"role": m["role"], "content": m["content"]} for m in state.messages]
        prompt = [{"role": m["role"], "content": m["content"]} for m in state.prompt]
        return self.model.generate(prompt, messages, self.max_new_tokens, list(self.stop))


def load_compressor_model(
    model_path: str | Path, folder: str | Path, device: str | None
) -> tuple[Any, Any, Any, Any]:
    """The base model (bf16 on CUDA, fp32 on CPU; sdpa, for the float masks the compressed prompt needs)
    with the compressor's LoRA from ``folder``, frozen; its tokenizer, the torch device and the dtype."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = torch.bfloat16 if where.type == "cuda" else torch.float32
    # A Module to mypy: transformers' functools.wraps on PreTrainedModel.to hides its signature.
    base: torch.nn.Module = AutoModelForCausalLM.from_pretrained(
        model_path, dtype=dtype, attn_implementation="sdpa"
    )
    model = PeftModel.from_pretrained(base.to(where), folder, is_trainable=False).eval()
    return model, AutoTokenizer.from_pretrained(model_path), where, dtype


def conversation_after_prompt(prompt_ids: list[int], full: list[int]) -> list[int]:
    """The ids of the conversation behind the prompt in ``full`` (prompt + conversation, encoded together);
    an error when the prompt tokenizes otherwise in context: the compressed form stands for ``prompt_ids``."""
    if full[: len(prompt_ids)] != prompt_ids:
        raise ValueError(
            "the prompt tokenizes differently in context; its compressed form was made from it alone"
        )
    return full[len(prompt_ids) :]


def stop_check(tokenizer: Any, stop: list[str]) -> Callable[[int, list[int]], bool]:
    """The greedy loop's stop predicate: a stop string in the last 64 decoded tokens."""

    def done(_: int, tokens: list[int]) -> bool:
        return bool(stop) and any(s in tokenizer.decode(tokens[-64:]) for s in stop)

    return done


def reply_text(tokenizer: Any, tokens: list[int], eos_ids: Any, stop: list[str]) -> tuple[str, list[int]]:
    """The reply's text, cut at a stop string, and its tokens without the final end-of-sequence token."""
    from agents.backends.base import cut_at_stop

    if tokens and tokens[-1] in eos_ids:
        tokens = tokens[:-1]
    # decode is annotated ``str | list[str]`` for every input; one sequence of ids gives a str.
    text, _ = cut_at_stop(cast(str, tokenizer.decode(tokens, skip_special_tokens=True)), stop)
    return text, tokens


def compressed_reply(
    text: str, dims: Any, conversation_tokens: int, compressed_tokens: int, generated: int, started: float
) -> Reply:
    """The reply and its accounting: the compressed prompt's positions count as cached prompt tokens."""
    from agents.accounting import call_flops
    from agents.base import Usage

    prompt_tokens = conversation_tokens + compressed_tokens
    usage = Usage(
        calls=1,
        prompt_tokens=prompt_tokens,
        cached_tokens=compressed_tokens,
        generated_tokens=generated,
        wall_s=time.monotonic() - started,
        flops=call_flops(
            dims, prompt_tokens=prompt_tokens, cached_tokens=compressed_tokens, generated_tokens=generated
        ),
    )
    return Reply(text=text, usage=usage)


def compressor_folder(name: str, env_name: str, adapter: str | None, *, artifact: str, method: str) -> Path:
    """``adapter/<env>/`` or ``adapter`` itself, whichever holds ``artifact``; a clear error otherwise."""
    if adapter is None:
        raise FileNotFoundError(
            f"agent {name!r} needs its trained compressor; build it with `python -m harness.train --method "
            f"{method} --env {env_name}` (harness.run builds it when missing)"
        )
    for folder in (Path(adapter) / env_name, Path(adapter)):
        if (folder / artifact).is_file():
            return folder
    raise FileNotFoundError(
        f"no {method} compressor for env {env_name!r} in {str(adapter)!r} (no {artifact})"
    )


def generation_options(env_name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The env's generation limits, overridden by the agent options the user gave."""
    from agents.model_agent import generation_for
    from agents.registry import AGENT_OPTIONS

    generation = generation_for(env_name) | {k: v for k, v in options.items() if k in AGENT_OPTIONS}
    return {"max_new_tokens": generation["max_new_tokens"], "stop": tuple(generation["stop"])}


_MODELS: dict[tuple[str, ...], Any] = {}
_MODELS_LOCK = threading.Lock()


def shared_model(key: tuple[str, ...], load: Callable[[], Any]) -> Any:
    """The model loaded for ``key`` in this process, loading it on first use."""
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load()
        return _MODELS[key]
