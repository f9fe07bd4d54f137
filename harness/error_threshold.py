"""When a run with errored episodes counts as failed (``--fail-on-error``), as in inspect_ai.

An errored episode (the back-end raised, timed out, the sandbox broke) says nothing about the agent. A run
whose episodes mostly errored, a dead model server for one, must not end as "complete" with exit status 0
and a table of zeros: it ends with status "failed" and a non-zero exit status instead, and ``--resume`` or
``--retry-errors`` redoes the errored episodes once the cause is fixed.

The threshold applies to each env of the run on its own (the latest record of each task): a value
``0 < x < 1`` is a share of that env's episodes, a value ``x >= 1`` a number of episodes; the run fails
when an env's errored episodes reach it. ``None`` never fails. The default, 0.5, fails a run in which half
of some env's episodes errored: beyond that the score mostly measures the failures.

Example::

    threshold = parse_threshold("0.2")
    reason = failure(summary["per_env"], threshold)  # None, or why the run failed
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

DEFAULT_THRESHOLD = 0.5
NEVER = ("never", "off", "none", "false")


def parse_threshold(text: str) -> float | None:
    """``--fail-on-error``'s value: a share in (0, 1), a count >= 1, or "never"; ValueError otherwise."""
    if text.strip().lower() in NEVER:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"--fail-on-error takes a share of episodes (0 < x < 1), a count (x >= 1) or 'never', got {text!r}"
        ) from None
    check_threshold(value)
    return value


def check_threshold(value: float | None) -> None:
    """Refuse a threshold that can never be meaningful (0 would fail every run, even one without errors)."""
    if value is None:
        return
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"--fail-on-error must be a share of episodes (0 < x < 1) or a count (x >= 1), got {value}"
        )
    if value > 1 and not float(value).is_integer():
        raise ValueError(f"--fail-on-error above 1 is a count of episodes and must be whole, got {value}")


def describe(value: float | None) -> str:
    """The threshold in words, for messages: "50% of an env's episodes", "3 episodes", "never"."""
    if value is None:
        return "never"
    if value < 1:
        return f"{value:.0%} of an env's episodes"
    return f"{int(value)} episode{'s' if value != 1 else ''} of an env"


def reached(errors: int, episodes: int, value: float | None) -> bool:
    """Whether ``errors`` out of ``episodes`` reach the threshold ``value``."""
    if value is None or errors == 0 or episodes == 0:
        return False
    limit = value * episodes if value < 1 else value
    return errors >= limit


def failure(per_env: Mapping[str, Mapping[str, Any]], value: float | None) -> str | None:
    """Why the run failed (one sentence naming each env over the threshold), or None if it did not."""
    over = [
        f"{env}: {int(s['errors'])} of {int(s['episodes'])} episodes errored"
        for env, s in per_env.items()
        if reached(int(s["errors"]), int(s["episodes"]), value)
    ]
    if not over:
        return None
    return (
        f"too many errored episodes ({'; '.join(over)}; --fail-on-error {describe(value)}): "
        "the scores would measure the failures, not the agent; fix the cause (see each episode's "
        "'error' in episodes.jsonl) and re-run them with --retry-errors"
    )
