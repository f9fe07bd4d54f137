"""A whole run: one agent on the tasks of one or more envs, written to a run folder that can be resumed.

Run folder layout::

    DIR/episodes.jsonl   one line per finished episode (see harness.records), all envs, append-only
    DIR/summary.json     config, per-env score ± stderr and costs, versions; status running/complete/...
    DIR/.lock            held while a run writes here, so two runs never interleave

``resume`` skips the tasks already finished without error and runs the rest (errored ones included);
``retry_errors`` runs only the tasks whose latest record is an error. The latest record of a task wins.
A run whose errored episodes reach ``fail_on_error`` (``harness.error_threshold``) ends with status
"failed" and the reason in ``summary["failure"]``, not "complete".

Example::

    summary = run(RunConfig(agent="oracle", envs=("web",), limit=5, out="results/runs/oracle"))
    print(summary["per_env"]["web"]["score"])
"""

from __future__ import annotations

import codecs
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import gymnasium as gym
from rich.console import Console

import envs
from agents.backends.base import normalize_base_url
from agents.base import ORACLE
from agents.rollout import DEFAULT_MAX_TURNS, EpisodeRecord, episode_seed, utc_now
from envs.core import SPLITS, text_env
from harness.error_threshold import DEFAULT_THRESHOLD, check_threshold, failure
from harness.executors import AgentBuildError, EpisodeJob, Executor, LocalExecutor, RayExecutor, init_ray
from harness.plugins import (
    AgentFactory,
    EnvFactory,
    UsageError,
    agent_factory,
    did_you_mean,
    env_factory,
    env_names,
    is_extra_agent,
)
from harness.records import EpisodeLog, ResultsError, latest, read_records, repair_tail
from harness.report import print_summary, progress
from harness.stats import env_stats
from harness.students import student_adapters

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
        _check_text_file(Path(config.tasks_file))
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
            _check_text_file(Path(value))
    if (config.attributes_file or config.goals_file) and not config.products_file:
        raise UsageError("--attributes and --goals describe a --products file: give --products too")
    if config.goals_file and config.tasks_file:
        raise UsageError("give either --goals (WebShop's human goals) or --tasks, not both")
    if config.ranks_file and not config.tasks_file:
        raise UsageError(
            "--ranks ranks the candidates of a --tasks file (Mind2Web records): give --tasks too"
        )


def _input_files(config: RunConfig) -> list[str]:
    """The data files the user named, as "tasks file X", "products file Y"... for error messages."""
    names = ("tasks_file", *(name for _, name, _ in ENV_DATA_FILES))
    return [f"{n.replace('_', ' ')} {v}" for n in names if (v := getattr(config, n)) is not None]


def _check_text_file(path: Path) -> None:
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


def versions() -> dict[str, str | None]:
    """Versions that identify the code behind a result: Python, packages, git commit (when in a checkout)."""

    def pkg(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        commit = out.stdout.strip() or None if out.returncode == 0 else None
    return {
        "python": platform.python_version(),
        "promptless": pkg("promptless"),
        "gymnasium": pkg("gymnasium"),
        "git_commit": commit,
    }


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to ``path`` through a temporary file and a rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` exclusively for the run; a second run on the same folder fails at once."""
    import fcntl  # POSIX only; the harness targets Linux and macOS

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(
            f"--out {folder} is a file or lies under one: give a folder for the results"
        ) from None
    with open(folder / ".lock", "w") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another run is writing to {folder}; wait for it or use another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def summarize(
    records: dict[tuple[str, str], dict[str, Any]], config: RunConfig, base: dict[str, Any]
) -> dict[str, Any]:
    """``summary.json`` content from the latest record of each task plus the run's config."""
    order = [*config.envs, *sorted({env for env, _ in records} - set(config.envs))]
    per_env = {}
    for env in order:
        recs = [r for (e, _), r in records.items() if e == env]
        if recs:
            per_env[env] = env_stats(recs).as_dict()
    overall = env_stats(records.values())
    summary = dict(base)
    summary.update(
        {
            "env": ",".join(e for e in order if e in per_env or e in config.envs),
            "episodes": overall.episodes,
            "score": overall.score,
            "stderr": overall.stderr,
            "errors": overall.errors,
            "score_ok": overall.score_ok,
            "per_env": per_env,
            "finished": utc_now(),
        }
    )
    if summary.get("status") == "complete":
        reason = failure(per_env, config.fail_on_error)
        if reason:
            summary.update(status="failed", failure=reason)
    return summary


def _check_resumable(config: RunConfig, out: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The previous summary, after checking that this run may continue that folder."""
    # key=str: a record without an agent gives None, which does not compare with the names.
    others = sorted({r.get("agent") for r in records} - {config.agent}, key=str)
    if others:
        raise UsageError(
            f"{out} holds episodes of agent {others[0]!r}, not {config.agent!r}; use another --out"
        )
    path = out / "summary.json"
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}  # a damaged summary is rebuilt from the episodes
    if not isinstance(previous, dict):
        raise UsageError(
            f"{path} holds a JSON {type(previous).__name__}, not the run summary object; "
            "remove it to rebuild it from the episodes, or use another --out"
        )
    current = resolved_fields(config)
    before = {**previous, "model": _same_model(previous.get("model"))}
    diffs = [f"{k}: {before.get(k)!r} -> {current[k]!r}" for k in RESUME_KEYS if before.get(k) != current[k]]
    old_options = previous.get("agent_options")
    if not isinstance(old_options, dict):
        old_options = {}
    diffs += [
        f"{k}: {old_options.get(k)!r} -> {current['agent_options'].get(k)!r}"
        for k in RESUME_OPTIONS
        if old_options.get(k) != current["agent_options"].get(k)
    ]
    if diffs:
        raise UsageError(
            f"cannot resume {out} with a different config ({'; '.join(diffs)}); use another --out"
        )
    return previous


def resolved_fields(config: RunConfig) -> dict[str, Any]:
    """The config as recorded in ``summary.json``."""
    data = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in ("envs", "out")}
    data["agent_options"] = {k: v for k, v in config.agent_options if k not in SECRET_OPTIONS}
    return data


def _same_model(model: Any) -> Any:
    """A recorded model as this version spells it (server URLs normalized), for comparing on resume."""
    if isinstance(model, str) and model.startswith(("http://", "https://")):
        return normalize_base_url(model)
    return model


def run(config: RunConfig, console: Console | None = None) -> dict[str, Any]:
    """Run ``config`` to the end and return its summary (also written to ``summary.json``)."""
    console = console or Console()
    validate(config)
    agent_factory(config.agent, env_name=config.envs[0])  # an unknown agent fails before a model is resolved
    config = replace(config, model=resolve_model(config), resume=config.resume or config.retry_errors)
    adapters = student_adapters(config)
    factories = {
        env: agent_factory(
            config.agent,
            env_name=env,
            model=config.model,
            adapter=adapters.get(env, config.adapter),
            **dict(config.agent_options),
        )
        for env in config.envs
    }
    with folder_lock(config.out_dir):
        return _run_locked(config, config.out_dir, factories, console)


def _run_locked(
    config: RunConfig, out: Path, factories: dict[str, AgentFactory], console: Console
) -> dict[str, Any]:
    log_path = out / "episodes.jsonl"
    try:
        if config.resume:
            cut = repair_tail(log_path)
            if cut:
                console.print(f"cut a torn last line ({cut} bytes) from {log_path}")
        existing = read_records(log_path)
    except ResultsError as exc:
        raise UsageError(str(exc)) from None
    if existing and not config.resume:
        raise UsageError(
            f"{out} already holds {len(existing)} episodes: pass --resume to continue that run, "
            "or --out to start elsewhere"
        )
    previous = _check_resumable(config, out, existing) if existing else {}
    records = latest(existing)
    base = {
        **resolved_fields(config),
        "status": "running",
        "started": previous.get("started") or utc_now(),
        "versions": versions(),
    }
    summary_path = out / "summary.json"

    env_factories: dict[str, EnvFactory] = {}
    probes: dict[str, gym.Env] = {}
    jobs: dict[str, list[EpisodeJob]] = {}
    try:
        # Build every env once up front: a bad tasks file or a missing sandbox fails before any episode.
        for env in config.envs:
            factory = env_factory(
                env,
                split=config.split,
                tasks_file=config.tasks_file,
                scripts_dir=config.scripts_dir,
                limit=config.limit,
                **{name: getattr(config, name) for _, name, _ in ENV_DATA_FILES},
            )
            env_factories[env] = factory
            try:
                probe = factory()
                task_ids = list(text_env(probe).task_ids())
            except UsageError:
                raise
            except Exception as exc:
                message = f"cannot create env {env!r}: {type(exc).__name__}: {exc}"
                # TaskError, JSON and decoding errors are ValueErrors: the tasks file is bad input.
                if _input_files(config) and isinstance(exc, ValueError):
                    raise UsageError(f"{message} ({', '.join(_input_files(config))})") from None
                raise RunError(message) from exc
            probes[env] = probe
            if config.limit is not None:
                task_ids = task_ids[: config.limit]
            if not task_ids:
                _warn_no_tasks(env, config)
            jobs[env] = [
                EpisodeJob(env, tid, episode_seed(config.seed, env, tid))
                for tid in task_ids
                if _wanted(records.get((env, tid)), config)
            ]
        write_json_atomic(summary_path, summarize(records, config, base))
        started_ray = False
        ray_mod: Any = None
        if config.executor == "ray" and any(jobs.values()):
            ray_mod, started_ray = init_ray()
        try:
            with EpisodeLog(log_path) as log:
                for env in config.envs:
                    done_before = sum(1 for (e, _), r in records.items() if e == env and not r.get("error"))
                    _run_env(
                        config,
                        env,
                        jobs[env],
                        done_before,
                        env_factories[env],
                        factories[env],
                        probes.pop(env),
                        log,
                        records,
                        console,
                    )
                    write_json_atomic(summary_path, summarize(records, config, base))
        finally:
            if started_ray:
                ray_mod.shutdown()
    except KeyboardInterrupt:
        write_json_atomic(summary_path, summarize(records, config, {**base, "status": "interrupted"}))
        raise
    finally:
        for probe in probes.values():
            probe.close()
    summary = summarize(records, config, {**base, "status": "complete"})
    write_json_atomic(summary_path, summary)
    print_summary(summary, console)
    return summary


def _warn_no_tasks(env: str, config: RunConfig) -> None:
    """An env without tasks: a warning, since a run of nothing would otherwise end as "complete" silently."""
    source = f"tasks file {config.tasks_file}" if config.tasks_file else f"split {config.split!r}"
    print(f"warning: env {env!r} has no tasks ({source} lists none): nothing to run", file=sys.stderr)


def _wanted(record: dict[str, Any] | None, config: RunConfig) -> bool:
    if config.retry_errors:
        return record is not None and bool(record.get("error"))
    return record is None or bool(record.get("error"))


def _run_env(
    config: RunConfig,
    env: str,
    jobs: list[EpisodeJob],
    done_before: int,
    env_fac: EnvFactory,
    agent_fac: AgentFactory,
    probe: gym.Env,
    log: EpisodeLog,
    records: dict[tuple[str, str], dict[str, Any]],
    console: Console,
) -> None:
    label = f"{config.agent} {env}"
    what = "errored episodes to retry" if config.retry_errors else "episodes to run"
    console.print(
        f"{label}: {len(jobs)} {what} ({done_before} done earlier), concurrency {config.concurrency}"
    )
    if not jobs:
        probe.close()
        return
    executor: Executor
    if config.executor == "ray":
        probe.close()  # Ray workers build their own
        executor = RayExecutor(
            env_fac,
            agent_fac,
            concurrency=config.concurrency,
            max_turns=config.max_turns,
            episode_timeout=config.episode_timeout,
            num_cpus=config.ray_num_cpus,
        )
    else:
        try:
            agent = agent_fac()
        except UsageError:
            probe.close()
            raise
        except Exception as exc:
            probe.close()
            raise RunError(
                f"cannot build agent {config.agent!r} for env {env!r}: {type(exc).__name__}: {exc}"
            ) from exc
        executor = LocalExecutor(
            env_fac,
            agent,
            concurrency=config.concurrency,
            max_turns=config.max_turns,
            episode_timeout=config.episode_timeout,
            envs=[probe],
        )
    scores: list[float] = []
    errors = 0
    with progress(console, label, len(jobs)) as bar:

        def on_record(record: EpisodeRecord) -> None:
            nonlocal errors
            log.append(record)
            records[(record.env, record.task_id)] = record.to_dict()
            scores.append(record.score)
            errors += bool(record.error)
            bar.advance(score=sum(scores) / len(scores), errors=errors)

        try:
            executor.run(jobs, on_record)
        except AgentBuildError as exc:
            raise RunError(f"cannot build agent {config.agent!r} for env {env!r}: {exc}") from exc
        finally:
            executor.close()
