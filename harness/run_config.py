"""What defines a run, checked before anything is built or written: ``RunConfig``, its validation with one
clear ``UsageError`` per bad input, and the model it resolves to (``--model``, else the embedded default).

Example::

    config = RunConfig(agent="oracle", envs=("web",), limit=5)
    validate(config)
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import envs
from agents.backends.base import normalize_base_url
from agents.base import ORACLE
from agents.rollout import DEFAULT_MAX_TURNS
from envs.core import SPLITS
from harness.error_threshold import DEFAULT_THRESHOLD, check_threshold
from harness.plugins import UsageError, did_you_mean, env_names, is_extra_agent

EXECUTORS = ("local", "ray")
#: Config fields a resumed run must share with the run it continues (its results would not mix otherwise).
RESUME_KEYS = (
    "agent", "split", "model", "adapter", "seed", "tasks_file", "scripts_dir",
    "products_file", "attributes_file", "goals_file", "ranks_file",
)  # fmt: skip
#: Data files that only one env reads (command-line flag, RunConfig field, the env that reads it).
ENV_DATA_FILES = (
    ("--products", "products_file", "shop"),
    ("--attributes", "attributes_file", "shop"),
    ("--goals", "goals_file", "shop"),
    ("--ranks", "ranks_file", "web"),
)
#: Agent options that change what the model generates: a resumed run must share them too.
RESUME_OPTIONS = ("model_name", "max_new_tokens", "temperature", "dtype")
#: Agent options never written to ``summary.json`` (a secret has no place in a results folder).
SECRET_OPTIONS = ("api_key",)
#: Options that reach only an OpenAI-compatible server, or only a local model folder.
SERVER_OPTIONS = ("timeout", "retries", "model_name", "api_key")
LOCAL_OPTIONS = ("dtype",)


class RunError(RuntimeError):
    """The run cannot go on (an agent or env cannot be built): the CLI prints it and exits with status 1."""


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; ``out`` defaults to ``results/runs/<agent>``."""

    agent: str
    envs: tuple[str, ...] = envs.ENV_NAMES
    split: str = "test"
    tasks_file: str | None = None
    scripts_dir: str | None = None
    products_file: str | None = None  # shop: WebShop's items_shuffle*.json
    attributes_file: str | None = None  # shop: WebShop's items_ins_v2*.json
    goals_file: str | None = None  # shop: WebShop's human goals, items_human_ins.json
    ranks_file: str | None = None  # web: Mind2Web's candidate scores and ranks of a --tasks file
    limit: int | None = None
    concurrency: int = 1
    model: str | None = None
    adapter: str | None = None
    seed: int = 0
    out: str | None = None
    resume: bool = False
    retry_errors: bool = False
    executor: str = "local"
    build: bool = True
    episode_timeout: float | None = None
    max_turns: int = DEFAULT_MAX_TURNS
    ray_num_cpus: float = 1.0
    agent_options: tuple[tuple[str, Any], ...] = field(default=())
    fail_on_error: float | None = DEFAULT_THRESHOLD  # see harness.error_threshold; None never fails

    @property
    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path("results") / "runs" / self.agent


def validate(config: RunConfig) -> None:
    """Reject bad input with one clear ``UsageError`` before anything is built or written."""
    if config.split not in SPLITS:
        raise UsageError(
            f"unknown split {config.split!r}{did_you_mean(config.split, SPLITS)}; choose from {sorted(SPLITS)}"
        )
    if not config.envs:
        raise UsageError("no env given")
    known = env_names()
    for name in config.envs:
        if name not in known:
            raise UsageError(f"unknown env {name!r}{did_you_mean(name, known)}; choose from {known}")
    if len(set(config.envs)) != len(config.envs):
        raise UsageError(f"env listed twice in {','.join(config.envs)!r}")
    if config.executor not in EXECUTORS:
        raise UsageError(f"unknown executor {config.executor!r}; choose from {list(EXECUTORS)}")
    if config.concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {config.concurrency}")
    if config.limit is not None and config.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {config.limit}")
    if config.episode_timeout is not None and not (
        math.isfinite(config.episode_timeout) and config.episode_timeout > 0
    ):
        raise UsageError(
            f"--episode-timeout must be a positive number of seconds, got {config.episode_timeout}"
        )
    if config.max_turns < 1:
        raise UsageError(f"--max-turns must be at least 1, got {config.max_turns}")
    try:
        check_threshold(config.fail_on_error)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if (config.tasks_file or config.scripts_dir) and len(config.envs) != 1:
        raise UsageError("--tasks/--scripts describe one env's tasks: give exactly one --env with them")
    if config.tasks_file and not Path(config.tasks_file).is_file():
        raise UsageError(f"tasks file not found: {config.tasks_file}")
    if config.tasks_file:
        check_text_file(Path(config.tasks_file))
    _check_env_data_files(config)
    if config.out_dir.exists() and not config.out_dir.is_dir():
        raise UsageError(
            f"--out {config.out_dir} is a file, not a folder: give a folder for the run's results"
        )
    _check_model_options(config)
    if config.scripts_dir and not Path(config.scripts_dir).is_dir():
        raise UsageError(f"scripts folder not found: {config.scripts_dir}")
    if config.adapter and not config.model and config.agent == ORACLE:
        raise UsageError("--adapter needs a model agent, not the oracle")


def _check_env_data_files(config: RunConfig) -> None:
    """The env-specific data files: given with their env alone, present, and (but for ranks) UTF-8 text."""
    for flag, name, env in ENV_DATA_FILES:
        value = getattr(config, name)
        if value is None:
            continue
        if tuple(config.envs) != (env,):
            raise UsageError(f"{flag} is a file of the {env!r} env: give --env {env} alone with it")
        if not Path(value).is_file():
            raise UsageError(f"{flag} file not found: {value}")
        if name != "ranks_file":  # Mind2Web's scores file is a pickle
            check_text_file(Path(value))
    if (config.attributes_file or config.goals_file) and not config.products_file:
        raise UsageError("--attributes and --goals describe a --products file: give --products too")
    if config.goals_file and config.tasks_file:
        raise UsageError("give either --goals (WebShop's human goals) or --tasks, not both")
    if config.ranks_file and not config.tasks_file:
        raise UsageError(
            "--ranks ranks the candidates of a --tasks file (Mind2Web records): give --tasks too"
        )


def input_files(config: RunConfig) -> list[str]:
    """The data files the user named, as "tasks file X", "products file Y"... for error messages."""
    names = ("tasks_file", *(name for _, name, _ in ENV_DATA_FILES))
    return [f"{n.replace('_', ' ')} {v}" for n in names if (v := getattr(config, n)) is not None]


def check_text_file(path: Path) -> None:
    """Refuse a tasks file that is not UTF-8 text, naming it: a loader's decode error would not."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 16):
                if b"\0" in chunk:
                    raise UnicodeDecodeError("utf-8", chunk, chunk.index(b"\0"), len(chunk), "NUL byte")
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UsageError(f"tasks file {path} is binary, not UTF-8 text: tasks files are JSON text") from None
    except OSError as exc:
        raise UsageError(f"cannot read tasks file {path}: {exc.strerror or exc}") from None


def _check_model_options(config: RunConfig) -> None:
    """Refuse a model option where it would not reach the model, and values no back-end accepts."""
    options = dict(config.agent_options)
    flag = {name: "--" + name.replace("_", "-") for name in options}
    flag.update(timeout="--model-timeout", retries="--model-retries")
    is_url = (config.model or "").startswith(("http://", "https://"))
    server_only = [flag[name] for name in SERVER_OPTIONS if name in options]
    if server_only and not is_url:
        raise UsageError(f"{'/'.join(server_only)} apply to a model server: give --model http(s)://HOST:PORT")
    local_only = [flag[name] for name in LOCAL_OPTIONS if name in options]
    if local_only and is_url:
        raise UsageError(
            f"{'/'.join(local_only)} apply to a local model folder; a server chooses its own (e.g. vLLM --dtype)"
        )
    timeout = options.get("timeout")
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--model-timeout must be a positive number of seconds, got {timeout}")
    retries = options.get("retries")
    if retries is not None and retries < 0:
        raise UsageError(f"--model-retries must be at least 0, got {retries}")
    temperature = options.get("temperature")
    if temperature is not None and not (math.isfinite(temperature) and temperature >= 0):
        raise UsageError(f"--temperature must be 0 (greedy) or more, got {temperature}")
    max_new_tokens = options.get("max_new_tokens")
    if max_new_tokens is not None and max_new_tokens < 1:
        raise UsageError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")


def resolve_model(config: RunConfig) -> str | None:
    """The model to load: ``--model``, else the embedded default for model agents (None for the oracle)."""
    if config.model and config.model.startswith(("http://", "https://")):
        # One spelling per server, so that "http://h:8000" and "http://h:8000/v1" resume into each other.
        return normalize_base_url(config.model)
    if config.model or config.agent == ORACLE or is_extra_agent(config.agent):
        return config.model
    try:
        from train.default_model import resolve_default_model
    except ModuleNotFoundError as exc:
        if exc.name in ("train.default_model", "train"):
            raise UsageError(
                f"agent {config.agent!r} needs a model, and the embedded default model is missing "
                "(train/default_model.py is not installed): pass --model PATH_OR_URL"
            ) from None
        raise
    try:
        return str(resolve_default_model(build=config.build))
    except Exception as exc:
        raise RunError(f"cannot get the embedded default model: {type(exc).__name__}: {exc}") from exc
