"""Per-env aggregates of episode records: mean score with its standard error, and per-episode costs.

Errored episodes count with score 0 (an agent whose back-end fails has failed the task) and are also
counted in ``errors`` so that a user can retry them; ``score_ok`` is the mean over the episodes without
error (None when every episode errored), so that a table can show both and never pass a dead back-end's
zeros off as the agent's skill. ``latency_s`` is the model's wall time per episode
(the sum of its calls' ``wall_s``), not the episode's, which also holds env time. ``flops_per_episode`` is
None (unknown) when any episode's FLOPs are unknown (a server that does not report them), never a mean that
counts them as 0.

Example::

    stats = env_stats(latest(read_records(path)).values())
    print(f"{stats.score:.3f} ± {stats.stderr:.3f}")
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def stderr(values: Sequence[float]) -> float:
    """Standard error of the mean: sample standard deviation (n - 1) over sqrt(n); 0 for n < 2."""
    n = len(values)
    if n < 2:
        return 0.0
    m = mean(values)
    variance = math.fsum((v - m) ** 2 for v in values) / (n - 1)
    return math.sqrt(variance / n)


@dataclass(frozen=True)
class EnvStats:
    """What ``summary.json`` and the leaderboard report for one (agent, env)."""

    episodes: int
    score: float
    stderr: float
    errors: int
    score_ok: float | None  # mean score of the episodes without error; None when all errored
    stderr_ok: float | None
    prompt_tokens: float  # per episode
    generated_tokens: float  # per episode
    flops_per_episode: float | None  # None: unknown
    latency_s: float  # model wall time per episode
    #: Share of the agent's replies the env accepted as an action (its reply format, whatever the task's
    #: outcome); None when no record says.
    valid_actions: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def env_stats(records: Iterable[dict[str, Any]]) -> EnvStats:
    """Aggregate the records of one env (one record per task: pass ``latest(...)`` values)."""
    recs = list(records)
    scores = [0.0 if r.get("error") else float(r.get("score", 0.0)) for r in recs]
    ok = [float(r.get("score", 0.0)) for r in recs if not r.get("error")]

    def per_episode(key: str) -> float:
        return mean([float(r.get("usage", {}).get(key, 0.0)) for r in recs])

    flops = [r.get("usage", {}).get("flops", 0.0) for r in recs]

    return EnvStats(
        episodes=len(recs),
        score=mean(scores),
        stderr=stderr(scores),
        errors=len(recs) - len(ok),
        score_ok=mean(ok) if ok else None,
        stderr_ok=stderr(ok) if ok else None,
        prompt_tokens=per_episode("prompt_tokens"),
        generated_tokens=per_episode("generated_tokens"),
        flops_per_episode=None if None in flops else mean([float(f) for f in flops]),
        latency_s=per_episode("wall_s"),
        valid_actions=valid_action_share(recs),
    )


def valid_action_share(records: Iterable[dict[str, Any]]) -> float | None:
    """The share of assistant turns whose ``action_valid`` is true, over the turns that record it."""
    marks = [
        bool(turn["action_valid"])
        for r in records
        for turn in r.get("transcript") or []
        if turn.get("role") == "assistant" and turn.get("action_valid") is not None
    ]
    return sum(marks) / len(marks) if marks else None


def mcnemar_exact_p(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value for paired yes/no outcomes: a binomial test with p = 1/2 on the
    discordant pairs (those where exactly one of the two said yes). A few lines of ``math.comb``, which
    spares the project a scipy dependency for one test."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = math.fsum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)
