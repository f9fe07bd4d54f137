"""``summary.json``'s content: per-env score ± stderr, errors and costs from the latest record of each task,
and the run's status ("failed" with its reason when errored episodes pass ``--fail-on-error``)."""

from __future__ import annotations

from typing import Any

from agents.rollout import utc_now
from harness.error_threshold import failure
from harness.run_config import RunConfig
from harness.stats import env_stats


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
