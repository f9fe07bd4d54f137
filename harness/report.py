"""What a run shows while it goes and when it ends: progress, the closing table, the plain result lines.

- Progress: a live bar on a terminal; elsewhere (a log file, a pipe, CI) one plain line to stderr every
  ``PROGRESS_INTERVAL_S`` seconds (``PROMPTLESS_PROGRESS_S`` overrides it), because a bar redrawn in
  place is noise in a log and no output at all looks like a hang.
- The closing table fits 80 columns. Errored episodes count with score 0 in ``score``; the table also
  shows how many errored and the score over the episodes without error (``ok score``), and says so.

Example::

    with progress(console, "teacher os", total=20) as bar:
        bar.advance(score=0.5, errors=0)
    print_summary(summary, console)
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol, TextIO

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

PROGRESS_INTERVAL_S = 5.0
PROGRESS_ENV = "PROMPTLESS_PROGRESS_S"
ERRORS_NOTE = "errored episodes score 0 in 'score'; 'ok score' leaves them out"


class Bar(Protocol):
    """One env's progress: ``advance`` after each finished episode with the running score and errors."""

    def advance(self, *, score: float, errors: int) -> None: ...


class _RichBar:
    def __init__(self, progress: Progress, label: str, total: int):
        self._progress = progress
        self._task = progress.add_task(label, total=total, score=0.0, errors=0)

    def advance(self, *, score: float, errors: int) -> None:
        self._progress.update(self._task, advance=1, score=score, errors=errors)


class LineBar:
    """Plain progress lines (``teacher os: 3/20 episodes, score 0.333, 1 errors, 12 s``) at an interval.

    A daemon thread writes a line every ``interval`` seconds whether or not an episode ended (a silent
    minute looks like a hang), plus one at the start and one at the end.
    """

    def __init__(self, label: str, total: int, interval: float, stream: TextIO):
        self.label, self.total, self.interval, self.stream = label, total, interval, stream
        self.done, self.score, self.errors = 0, 0.0, 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name=f"progress-{label}", daemon=True)

    def advance(self, *, score: float, errors: int) -> None:
        with self._lock:
            self.done, self.score, self.errors = self.done + 1, score, errors

    def line(self) -> str:
        with self._lock:
            done, score, errors = self.done, self.score, self.errors
        elapsed = time.monotonic() - self._started
        return (
            f"{self.label}: {done}/{self.total} episodes, score {score:.3f}, {errors} errors, {elapsed:.0f} s"
        )

    def _write(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream must not kill the run
            print(self.line(), file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self._write()

    def __enter__(self) -> LineBar:
        self._write()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._write()


def progress_interval() -> float:
    """Seconds between plain progress lines: ``PROMPTLESS_PROGRESS_S`` when set to a positive number."""
    try:
        value = float(os.environ.get(PROGRESS_ENV, ""))
    except ValueError:
        return PROGRESS_INTERVAL_S
    return value if value > 0 else PROGRESS_INTERVAL_S


@contextlib.contextmanager
def progress(console: Console, label: str, total: int, stream: TextIO | None = None) -> Iterator[Bar]:
    """A live bar when ``console`` is a terminal, else plain lines on ``stream`` (default stderr)."""
    if console.is_terminal:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("score {task.fields[score]:.3f}  errors {task.fields[errors]}"),
            TimeElapsedColumn(),
            console=console,
        ) as live:
            yield _RichBar(live, label, total)
        return
    with LineBar(label, total, progress_interval(), stream or sys.stderr) as bar:
        yield bar


def _ok_score(s: dict[str, Any]) -> str:
    value = s.get("score_ok")
    return "-" if value is None else f"{value:.3f}"


def _flops(value: float | None) -> str:
    """FLOPs per episode, or "?" when unknown (a server that does not report them)."""
    return "?" if value is None else f"{value:.2e}"


def summary_table(summary: dict[str, Any]) -> Table:
    """The closing table: one row per env, 80 columns wide at most (short headers, units in the caption)."""
    table = Table(
        title=f"{summary['agent']} on {summary.get('split')} ({summary.get('status')})",
        caption=f"per episode: prompt/generated tokens, FLOPs (? unknown), model seconds; {ERRORS_NOTE}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,  # one space between columns, not three: the table must fit 80 columns
    )
    for col in ("env", "n", "errors", "score", "±", "ok score", "prompt", "gen", "FLOPs", "model s"):
        table.add_column(col, justify="left" if col == "env" else "right", no_wrap=True)
    for env, s in summary["per_env"].items():
        table.add_row(
            env,
            str(s["episodes"]),
            str(s["errors"]),
            f"{s['score']:.3f}",
            f"{s['stderr']:.3f}",
            _ok_score(s),
            f"{s['prompt_tokens']:.0f}",
            f"{s['generated_tokens']:.0f}",
            _flops(s.get("flops_per_episode")),
            f"{s['latency_s']:.2f}",
        )
    return table


def result_lines(summary: dict[str, Any]) -> list[str]:
    """The plain closing lines, one per env: ``oracle os: score 1.000 ± 0.000 (26 episodes, 0 errors)``.

    With errors the line goes on with the score over the episodes without error, so that a zero from a dead
    back-end is never read as the agent's: ``...(8 episodes, 3 errors; 1.000 over the 5 without error)``.
    """
    lines = []
    for env, s in summary["per_env"].items():
        line = (
            f"{summary['agent']} {env}: score {s['score']:.3f} ± {s['stderr']:.3f} "
            f"({s['episodes']} episodes, {s['errors']} errors"
        )
        if s["errors"]:
            ok = s["episodes"] - s["errors"]
            line += f"; {_ok_score(s)} over the {ok} without error" if ok else "; every episode errored"
        lines.append(line + ")")
    return lines


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """The closing table, then the plain lines (no markup, no wrapping: scripts grep them)."""
    console.print(summary_table(summary))
    for line in result_lines(summary):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if summary.get("failure"):
        console.print(f"run failed: {summary['failure']}", markup=False, highlight=False, soft_wrap=True)
