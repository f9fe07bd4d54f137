"""A whole run: one agent on the tasks of one or more envs, written to a run folder that can be resumed.

The run's parts live beside it: ``harness.run_config`` (what defines a run, validated), ``harness.run_folder``
(the folder's lock, atomic writes, resume checks), ``harness.summary`` (``summary.json``), ``harness.executors``
(local threads or Ray) and ``harness.report`` (progress and the closing table).

``resume`` skips the tasks already finished without error and runs the rest (errored ones included);
``retry_errors`` runs only the tasks whose latest record is an error. The latest record of a task wins.
A run whose errored episodes reach ``fail_on_error`` (``harness.error_threshold``) ends with status
"failed" and the reason in ``summary["failure"]``, not "complete".

Example::

    summary = run(RunConfig(agent="oracle", envs=("web",), limit=5, out="results/runs/oracle"))
    print(summary["per_env"]["web"]["score"])
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import gymnasium as gym
from rich.console import Console

from agents.rollout import EpisodeRecord, episode_seed, utc_now
from envs.core import text_env
from harness.executors import AgentBuildError, EpisodeJob, Executor, LocalExecutor, RayExecutor, init_ray
from harness.plugins import AgentFactory, EnvFactory, UsageError, agent_factory, env_factory
from harness.records import EpisodeLog, ResultsError, latest, read_records, repair_tail
from harness.report import print_summary, progress
from harness.run_config import (
    ENV_DATA_FILES,
    EXECUTORS,
    RunConfig,
    RunError,
    input_files,
    resolve_model,
    validate,
)
from harness.run_folder import check_resumable, folder_lock, resolved_fields, versions, write_json_atomic
from harness.students import student_adapters
from harness.summary import summarize

__all__ = ["EXECUTORS", "RunConfig", "RunError", "resolve_model", "run", "validate"]


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
    previous = check_resumable(config, out, existing) if existing else {}
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
                if input_files(config) and isinstance(exc, ValueError):
                    raise UsageError(f"{message} ({', '.join(input_files(config))})") from None
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
