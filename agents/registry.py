"""The agent registry: names to lazily imported factories, with "did you mean" on a typo.

Nothing heavy is imported until an agent is made: a model back-end pulls in torch/transformers (local
folder) or httpx (server URL) only then. Back-ends are shared: every agent of a process that names the same
model, adapter and back-end options gets the same back-end object, so concurrent episodes of several envs
batch together on one loaded model.

Example::

    from agents.registry import list_agents, make_agent

    agent = make_agent("teacher", env_name="os", model="models/tiny")          # local folder
    agent = make_agent("noprompt", env_name="shop", model="http://127.0.0.1:8000")  # OpenAI-compatible server
    agent = make_agent("gcd", env_name="os", model="models/tiny", adapter="adapters/gcd")  # adapters/gcd/os/

Options (``**options``): ``max_new_tokens`` and ``stop`` for the agent (defaults per env in
the env's own, ``agents.model_agent.generation_for``); ``device``, ``dtype``, ``load_in_4bit``, ``prefix_cache``,
``max_batch``, ``truncation`` for a local model; ``api_key``, ``timeout``, ``retries``, ``model_name`` (the
served model's id) for a server; ``temperature`` for both (0, the default, is greedy).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from agents.base import Agent
from envs.lazy import LazyRegistry, TargetError

AGENT_OPTIONS = frozenset({"max_new_tokens", "stop"})
HF_OPTIONS = frozenset(
    {"device", "dtype", "load_in_4bit", "prefix_cache", "max_batch", "truncation", "temperature"}
)
OPENAI_OPTIONS = frozenset({"api_key", "timeout", "retries", "model_name", "temperature"})
NO_MODEL_MESSAGE = (
    "no model given: pass --model PATH_OR_URL, or build the embedded default with `python -m train.bootstrap`"
)


#: Agent names to ``"module:factory"`` targets, imported when an agent of that name is made. A factory is
#: called as ``factory(name, env_name=..., model=..., adapter=..., **options)``.
AGENTS = LazyRegistry("agent")


def register(name: str, target: str, description: str) -> None:
    """Add an agent kind (or replace one): ``target`` is ``"module:callable"``."""
    AGENTS.register(name, target, description)


for _name, _target, _description in [
    (
        "oracle",
        "agents.registry:_oracle",
        "scripted: replays the task's privileged solution (proves it solvable)",
    ),
    ("teacher", "agents.registry:_prompted", "base model with the env's full prompt (the reference)"),
    (
        "teacher-cached",
        "agents.registry:_prompted",
        "the teacher with the prompt's KV cache reused across calls (the fair efficiency baseline)",
    ),
    ("noprompt", "agents.registry:_prompted", "base model without the prompt (the lower bound)"),
    (
        "gcd",
        "agents.registry:_student",
        "GCD student: LoRA trained with SFT + prompt-generation loss, no prompt",
    ),
    (
        "seqkd",
        "agents.registry:_student",
        "SeqKD student: LoRA trained by SFT on the teacher's turns, no prompt",
    ),
    ("seqkd-kld", "agents.registry:_student", "SeqKD + token-level KL to the prompted teacher, no prompt"),
    (
        "prepend-100",
        "agents.registry:_student",
        "LoRA trained with the prompt always in context, run without it",
    ),
    (
        "prepend-50",
        "agents.registry:_student",
        "LoRA trained with the prompt in context half the time, run without",
    ),
    ("gist", "agents.gist_agent:make_gist_agent", "gist tokens: the prompt compressed into cached gist K/V"),
    *[
        (
            f"gist-{k}",
            "agents.gist_agent:make_gist_agent",
            f"gist tokens: the prompt compressed into the cached K/V of {k} gist token{'s' * (k > 1)}",
        )
        for k in (1, 2, 5)
    ],
    (
        "llmlingua2",
        "agents.lingua_agent:make_lingua_agent",
        "LLMLingua-2: a keep/drop word classifier removes half of the prompt's tokens",
    ),
    *[
        (
            f"llmlingua2-{pct}",
            "agents.lingua_agent:make_lingua_agent",
            f"LLMLingua-2: a keep/drop word classifier removes {pct}% of the prompt's tokens",
        )
        for pct in (30, 50, 70)
    ],
    (
        "icae",
        "agents.icae_agent:make_icae_agent",
        "ICAE: the prompt encoded into memory slots (4x fewer) read by the frozen model",
    ),
]:
    register(_name, _target, _description)


def gist_k(name: str) -> int | None:
    """The number of gist tokens an agent's name fixes (``gist-5`` -> 5); None for any other name."""
    match = re.fullmatch(r"gist-(\d+)", name)
    return int(match.group(1)) if match else None


def list_agents() -> list[tuple[str, str]]:
    """(name, one-line description) of every registered agent, in registration order."""
    return [(entry.name, entry.description) for entry in AGENTS.entries()]


def make_agent(
    name: str, *, env_name: str, model: str | None, adapter: str | None = None, **options: Any
) -> Agent:
    """Make the agent ``name`` for env ``env_name`` (see the module docstring for ``model`` and options)."""
    try:
        factory = AGENTS.load(name)
    except TargetError as exc:
        raise ValueError(str(exc)) from None
    model = None if model is None else str(model)  # a pathlib.Path is welcome too
    adapter = None if adapter is None else str(adapter)
    return factory(name, env_name=env_name, model=model, adapter=adapter, **options)


# ------------------------------------------------------------------------------------------------- factories
def _oracle(name: str, *, env_name: str, model: str | None, adapter: str | None, **options: Any) -> Agent:
    from agents.oracle import OracleAgent

    return OracleAgent()  # model, adapter and generation options mean nothing to it: ignored


def _prompted(name: str, *, env_name: str, model: str | None, adapter: str | None, **options: Any) -> Agent:
    if adapter is not None:
        raise ValueError(f"agent {name!r} runs the base model; --adapter is for the student agents only")
    if name == "teacher-cached":
        if model is not None and _is_url(model):
            raise ValueError(
                "agent 'teacher-cached' caches the prompt inside the server: start it with "
                "`python -m agents.serve --model PATH --prefix-cache` and run --agent teacher against it"
            )
        options = {**options, "prefix_cache": True}
    use_prompt = name in ("teacher", "teacher-cached")
    return _model_agent(name, env_name, model, None, use_prompt=use_prompt, options=options)


def _student(name: str, *, env_name: str, model: str | None, adapter: str | None, **options: Any) -> Agent:
    if model is None:
        raise ValueError(NO_MODEL_MESSAGE)
    if _is_url(model):
        # A remote model cannot take an adapter from here: the server must have been started with it.
        if adapter is not None:
            raise ValueError(
                f"agent {name!r}: an adapter cannot be applied to the remote model {model}; start the server "
                "with it instead: python -m agents.serve --model BASE --adapter ADAPTER_DIR"
            )
        return _model_agent(name, env_name, model, None, use_prompt=False, options=options)
    return _model_agent(
        name,
        env_name,
        model,
        str(resolve_adapter(name, env_name, adapter)),
        use_prompt=False,
        options=options,
    )


def resolve_adapter(agent: str, env_name: str, adapter: str | Path | None) -> Path:
    """The adapter folder for ``env_name``: ``adapter/<env_name>/`` or ``adapter`` itself."""
    train_hint = f"train it with `python -m harness.train --method {agent} --env {env_name}`"
    if adapter is None:
        raise FileNotFoundError(
            f"agent {agent!r} needs a trained adapter for env {env_name!r} (--adapter); {train_hint}"
        )
    root = Path(adapter)
    for candidate in (root / env_name, root):
        if (candidate / "adapter_config.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"no adapter for env {env_name!r} in {str(root)!r} (looked for {root / env_name / 'adapter_config.json'} "
        f"and {root / 'adapter_config.json'}); {train_hint}"
    )


def _model_agent(
    name: str,
    env_name: str,
    model: str | None,
    adapter: str | None,
    *,
    use_prompt: bool,
    options: dict[str, Any],
) -> Agent:
    from agents.model_agent import ModelAgent, generation_for

    if model is None:
        raise ValueError(NO_MODEL_MESSAGE)
    agent_options = {k: v for k, v in options.items() if k in AGENT_OPTIONS}
    backend_options = {k: v for k, v in options.items() if k not in AGENT_OPTIONS}
    # A user's own env (a harness plugin) has no tuned defaults: it gets the generic ones.
    generation = {**generation_for(env_name), **agent_options}
    backend = get_backend(model, adapter, **backend_options)
    return ModelAgent(name, backend, use_prompt=use_prompt, **generation)


_BACKENDS: dict[tuple[Any, ...], Any] = {}
_BACKENDS_LOCK = threading.Lock()


def get_backend(model: str, adapter: str | None = None, **options: Any) -> Any:
    """The shared back-end for (model, adapter, options): an ``OpenAIBackend`` for an http(s) URL, else an
    ``HFBackend`` for a local folder. Made on first use, then reused by every agent of the process."""
    is_url = _is_url(model)
    allowed = OPENAI_OPTIONS if is_url else HF_OPTIONS
    unknown = set(options) - allowed
    if unknown:
        kind = "a server URL" if is_url else "a local model folder"
        raise ValueError(
            f"option(s) {sorted(unknown)} do not apply to {kind}; allowed: {sorted(allowed | AGENT_OPTIONS)}"
        )
    key = (model, adapter, tuple(sorted(options.items())))
    with _BACKENDS_LOCK:  # held while loading, so that two threads never load the same model twice
        backend = _BACKENDS.get(key)
        if backend is None:
            if is_url:
                from agents.backends.openai_compat import OpenAIBackend

                openai_options = dict(options)
                served = openai_options.pop("model_name", None)
                backend = OpenAIBackend(model, served, **openai_options)
            else:
                from agents.backends.hf import HFBackend

                backend = HFBackend(model, adapter=adapter, **options)
            _BACKENDS[key] = backend
        return backend


def clear_backends() -> None:
    """Close and forget every shared back-end (frees the loaded models)."""
    with _BACKENDS_LOCK:
        for backend in _BACKENDS.values():
            close = getattr(backend, "close", None)
            if close is not None:
                close()
        _BACKENDS.clear()


def _is_url(model: str) -> bool:
    return model.startswith(("http://", "https://"))
