"""``python -m harness.leaderboard``: one row per (agent, env, model) from every run folder, as CSV and a plot.

Each run folder below ``--runs`` holding an ``episodes.jsonl`` contributes the latest record of each of its
tasks. A row is named by the agent as recorded in the episodes and the model of the run's ``summary.json``
(``run_model``); if two run folders hold the same (agent, env, model), the most recent one (latest
``finished_at``) wins and a warning names both. Numbers are per episode means; ``*_vs_teacher`` is the ratio
to the ``teacher`` row of the same env and model (empty without one); ``valid_actions`` is the share of the
agent's replies the env accepted as actions (its reply format, whatever the outcome); ``agreement`` comes from the run's
``agreement.json`` (``harness.agreement``). Errored episodes count with score 0. FLOPs a server did not
report are unknown: ``flops_per_episode`` and ``flops_vs_teacher`` are then blank, and the plot draws the row
as a reference line. Rows are sorted by env (os, web, shop, then others), then score.

Writing never drops rows that were not re-run: rows already in the CSV whose (agent, env, model) the runs
do not cover are kept, unless ``--replace``.

``--markdown FILE`` (``-``: stdout) also writes the board as two Markdown tables, agents against envs: score
± stderr, then agreement and FLOPs relative to the teacher.

Example::

    python -m harness.leaderboard --runs results/runs --out results/leaderboard.csv
    # also draws results/leaderboard.png: score vs FLOPs per episode, one panel per env, n per point,
    # the model named, and a caption line
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

import envs
from harness.records import latest, read_records
from harness.run_folder import model_label
from harness.stats import env_stats

TEACHER = "teacher"


class LeaderboardError(ValueError):
    """Nothing to rank, or a bad path: printed as one line, exit status 2."""


@dataclass(frozen=True)
class Row:
    """One (agent, env) line of the leaderboard; per-episode means."""

    agent: str
    env: str
    model: str  # what the agent ran on (``model_label``); rows of different models are never merged
    episodes: int
    score: float
    stderr: float
    score_vs_teacher: float | None
    prompt_tokens: float
    generated_tokens: float
    flops_per_episode: float | None  # None: unknown (a server that does not report FLOPs)
    flops_vs_teacher: float | None
    latency_s: float
    latency_vs_teacher: float | None
    errors: int
    valid_actions: float | None  # share of the agent's replies the env accepted as actions (its format)
    agreement: float | None  # share of the teacher's turns whose action a student repeats (harness.agreement)
    run: str  # the run folder, relative to --runs


COLUMNS = tuple(f.name for f in fields(Row))


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if base and value is not None else None


def _costed(row: Row) -> bool:
    """Whether the row has model FLOPs to place on a log axis (known and above 0)."""
    return row.flops_per_episode is not None and row.flops_per_episode > 0


def run_model(run: Path) -> str:
    """The model a run used, as a label: the ``model_label`` its summary recorded when it started, or for a
    summary without one, the label of the recorded model as the folder is now (``model_label``)."""
    try:
        summary = json.loads((run / "summary.json").read_text())
    except (OSError, ValueError):
        return ""
    if not isinstance(summary, dict):
        return ""
    recorded = summary.get("model_label")
    return recorded if isinstance(recorded, str) else model_label(summary.get("model"))


def read_csv(path: Path) -> list[Row]:
    """The rows of a leaderboard CSV written before (columns it lacks are empty)."""
    types = {f.name: f.type for f in fields(Row)}
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for raw in csv.DictReader(f):
            values: dict[str, Any] = {}
            for name, kind in types.items():
                cell = raw.get(name) or ""
                if "str" in str(kind) and "None" not in str(kind):
                    values[name] = cell
                elif cell == "":
                    values[name] = None if "None" in str(kind) else 0
                else:
                    values[name] = int(float(cell)) if str(kind) == "int" else float(cell)
            rows.append(Row(**values))
    return rows


def merge(kept: Sequence[Row], fresh: Sequence[Row]) -> list[Row]:
    """``fresh`` rows, plus the ``kept`` rows whose (agent, env, model) the fresh ones do not cover."""
    covered = {(r.agent, r.env, r.model) for r in fresh}
    return with_teacher_ratios([*fresh, *(r for r in kept if (r.agent, r.env, r.model) not in covered)])


def _agreement(run: Path, env: str) -> float | None:
    path = run / "agreement.json"
    if not path.is_file():
        return None
    value = json.loads(path.read_text()).get(env, {}).get("agreement")
    return None if value is None else float(value)


def _env_rank(env: str) -> tuple[int, str]:
    return (envs.ENV_NAMES.index(env), "") if env in envs.ENV_NAMES else (len(envs.ENV_NAMES), env)


def collect(runs_dir: Path) -> list[Row]:
    """The leaderboard rows from every ``episodes.jsonl`` under ``runs_dir``."""
    if not runs_dir.is_dir():
        raise LeaderboardError(f"runs folder not found: {runs_dir}")
    # (agent, env, model) -> (latest finished_at, run label, records)
    chosen: dict[tuple[str, str, str], tuple[str, str, list[dict[str, Any]]]] = {}
    for path in sorted(runs_dir.rglob("episodes.jsonl")):
        label = str(path.parent.relative_to(runs_dir)) or "."
        model = run_model(path.parent)
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for (env, _), rec in latest(read_records(path, strict=False)).items():
            groups.setdefault((str(rec.get("agent", "?")), env, model), []).append(rec)
        for key, recs in groups.items():
            when = max(str(r.get("finished_at", "")) for r in recs)
            if key in chosen:
                other_when, other_label, _ = chosen[key]
                newer, older = (label, other_label) if when > other_when else (other_label, label)
                warnings.warn(
                    f"agent {key[0]!r} env {key[1]!r} model {key[2]!r} is in runs {other_label!r} and {label!r}; "
                    f"using {newer!r} (most recent), ignoring {older!r}",
                    stacklevel=2,
                )
                if when <= other_when:
                    continue
            chosen[key] = (when, label, recs)
    if not chosen:
        raise LeaderboardError(f"no episodes.jsonl under {runs_dir}")
    rows = []
    for (agent, env, model), (_, label, recs) in chosen.items():
        s = env_stats(recs)
        rows.append(
            Row(
                agent=agent,
                env=env,
                model=model,
                episodes=s.episodes,
                score=s.score,
                stderr=s.stderr,
                score_vs_teacher=None,
                prompt_tokens=s.prompt_tokens,
                generated_tokens=s.generated_tokens,
                flops_per_episode=s.flops_per_episode,
                flops_vs_teacher=None,
                latency_s=s.latency_s,
                latency_vs_teacher=None,
                errors=s.errors,
                valid_actions=s.valid_actions,
                agreement=_agreement(runs_dir / label, env),
                run=label,
            )
        )
    return with_teacher_ratios(rows)


def with_teacher_ratios(rows: Sequence[Row]) -> list[Row]:
    """Each row's ``*_vs_teacher`` against the teacher of the same env and model, sorted for display.

    The ratios are taken between the values as the CSV writes them, so that a row computed from its run
    and the same row read back from the CSV get the same ratio, and rewriting the board never changes a
    row that was not re-run."""
    teachers = {(r.env, r.model): r for r in rows if r.agent == TEACHER}
    rows = [
        replace(
            r,
            score_vs_teacher=_written_ratio(r.score, t.score),
            flops_vs_teacher=_written_ratio(r.flops_per_episode, t.flops_per_episode),
            latency_vs_teacher=_written_ratio(r.latency_s, t.latency_s),
        )
        if (t := teachers.get((r.env, r.model)))
        else replace(r, score_vs_teacher=None, flops_vs_teacher=None, latency_vs_teacher=None)
        for r in rows
    ]
    return sorted(rows, key=lambda r: (_env_rank(r.env), -r.score, r.agent))


def _written_ratio(value: float | None, base: float | None) -> float | None:
    as_written = [None if v is None else float(_cell(float(v))) for v in (value, base)]
    return _ratio(*as_written)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_csv(rows: Sequence[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in rows:
            data = asdict(row)
            writer.writerow([_cell(data[c]) for c in COLUMNS])


def caption(rows: Sequence[Row]) -> str:
    """The plot's caption line: what a point is, how many episodes, what the error bars and axes mean."""
    episodes = sorted({r.episodes for r in rows})
    n = f"n = {episodes[0]}" if len(episodes) == 1 else f"n = {episodes[0]}-{episodes[-1]}"
    errors = sum(r.errors for r in rows)
    errored = f"; {errors} errored episodes count as score 0" if errors else ""
    return (
        f"Mean score per episode ± 1 standard error against the model's FLOPs per episode (log scale); "
        f"{n} episodes per point{errored}. Dashed lines: agents without model FLOPs (scripted) "
        "or with FLOPs unknown (a server that does not report them)."
    )


def _power_of_ten(value: float, _position: Any = None) -> str:
    """A log-axis tick as mathtext: ``10^9``, ``2×10^9`` (every major tick labelled, none left blank)."""
    if value <= 0:
        return ""
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10**exponent, 2)
    return f"$10^{{{exponent}}}$" if mantissa == 1 else f"${mantissa:g}\\times10^{{{exponent}}}$"


def figure(rows: Sequence[Row]) -> Any:
    """The leaderboard figure: one panel per env, score against FLOPs per episode, one point per
    (agent, model) labelled with the agent and its n, one colour per model (named in the legend or the
    title), and a caption line under the panels. Returned open so that tests can look at it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, MultipleLocator, NullFormatter

    env_order = sorted({r.env for r in rows}, key=_env_rank)
    models = sorted({r.model for r in rows if _costed(r)})
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    fig, axes = plt.subplots(1, len(env_order), figsize=(5.2 * len(env_order), 4.4), squeeze=False)
    for ax, env in zip(axes[0], env_order, strict=True):
        panel = [r for r in rows if r.env == env]
        costed = [r for r in panel if _costed(r)]
        for r in costed:
            x = r.flops_per_episode or 0.0  # known and > 0 here (_costed)
            ax.errorbar(
                x,
                r.score,
                yerr=r.stderr,
                fmt="o",
                capsize=3,
                color=colours[r.model],
                label=r.model or "(no model)",
            )
            ax.annotate(
                f"{r.agent} (n={r.episodes})",
                (x, r.score),
                textcoords="offset points",
                xytext=(5, 5),
                fontsize=8,
            )
        # Agents without model FLOPs (the oracle), or whose FLOPs are unknown, cannot sit on a log axis:
        # show them as reference lines.
        for r in panel:
            if not _costed(r):
                why = "FLOPs unknown" if r.flops_per_episode is None else "no model FLOPs"
                ax.axhline(r.score, linestyle="--", linewidth=0.8, color="grey")
                ax.text(
                    0.01,
                    r.score,
                    f" {r.agent} (n={r.episodes}, {why})",
                    transform=ax.get_yaxis_transform(),
                    va="bottom",
                    fontsize=8,
                    color="grey",
                )
        if costed:
            ax.set_xscale("log")
            known = [r.flops_per_episode for r in costed if r.flops_per_episode is not None]
            low, high = min(known), max(known)
            # Less than a decade of data leaves a log axis without a single major tick: label 1, 2 and 5
            # of each decade then, and keep at least one decade in view.
            subs = (1.0,) if high / low >= 100 else (1.0, 2.0, 5.0)
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
            ax.xaxis.set_major_formatter(FuncFormatter(_power_of_ten))
            ax.xaxis.set_minor_formatter(NullFormatter())
            centre = math.sqrt(low * high)
            half = max(math.sqrt(high / low) * 2.0, math.sqrt(10.0))
            ax.set_xlim(centre / half, centre * half)
            ax.set_xlabel("model FLOPs per episode (log scale)")
        else:
            ax.set_xticks([])
            ax.set_xlabel("no agent with model FLOPs in this env")
        ax.set_title(env)
        ax.set_ylabel("score (mean ± s.e.)")
        ax.set_ylim(-0.05, 1.1)
        ax.yaxis.set_major_locator(MultipleLocator(0.2))
        ax.tick_params(labelsize=9)
        ax.grid(True, alpha=0.3)
    named = [m for m in models if m]
    if len(named) > 1:
        handles = [plt.Line2D([], [], marker="o", linestyle="", color=colours[m], label=m) for m in named]
        fig.legend(handles=handles, loc="upper right", fontsize=8, title="model", title_fontsize=8)
        fig.suptitle("promptless leaderboard", fontsize=11)
    else:
        fig.suptitle(f"promptless leaderboard, model: {named[0] if named else 'none (scripted agents)'}")
    fig.text(0.01, 0.01, caption(rows), fontsize=8, wrap=True, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def plot(rows: Sequence[Row], path: Path) -> None:
    """Draw ``figure(rows)`` to ``path`` (PNG at 150 dpi: readable in a paper column)."""
    import matplotlib.pyplot as plt

    fig = figure(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)


def table(rows: Sequence[Row]) -> Table:
    t = Table(title="promptless leaderboard", box=box.SIMPLE_HEAD)
    headers = (
        "env",
        "agent",
        "n",
        "score",
        "±",
        "vs teacher",
        "prompt/ep",
        "FLOPs/ep",
        "FLOPs vs T",
        "latency s",
        "lat vs T",
        "valid",
        "agree",
        "errors",
    )
    for h in headers:
        t.add_column(h, justify="left" if h in ("env", "agent") else "right", no_wrap=True)

    def ratio(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"

    for r in rows:
        t.add_row(
            r.env,
            r.agent,
            str(r.episodes),
            f"{r.score:.3f}",
            f"{r.stderr:.3f}",
            ratio(r.score_vs_teacher),
            f"{r.prompt_tokens:.0f}",
            "?" if r.flops_per_episode is None else f"{r.flops_per_episode:.2e}",
            ratio(r.flops_vs_teacher),
            f"{r.latency_s:.2f}",
            ratio(r.latency_vs_teacher),
            ratio(r.valid_actions),
            ratio(r.agreement),
            str(r.errors),
        )
    return t


def _agent_order() -> list[str]:
    """Agents in the order ``harness.run --list`` gives them: references first, then students, compressors."""
    from harness.plugins import UsageError, agent_names

    try:
        return agent_names()
    except UsageError:
        return []


def markdown(rows: Sequence[Row]) -> str:
    """The leaderboard as two Markdown tables for a README or a paper's notes: score ± stderr per (agent,
    model) and env, then agreement and FLOPs relative to the same model's teacher ("" where none)."""
    envs_order = sorted({r.env for r in rows}, key=_env_rank)
    order = _agent_order()
    keys = sorted(
        {(r.agent, r.model) for r in rows},
        key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[0], k[1]),
    )
    cell = {(r.agent, r.model, r.env): r for r in rows}

    def grid(title: str, show: Any) -> list[str]:
        head = f"| agent | model | {' | '.join(envs_order)} |"
        lines = [f"{title}", "", head, "|" + " --- |" * (2 + len(envs_order))]
        for agent, model in keys:
            values = [show(cell.get((agent, model, env))) for env in envs_order]
            lines.append(f"| {agent} | {model or '-'} | {' | '.join(values)} |")
        return lines

    def score(r: Row | None) -> str:
        return "" if r is None else f"{r.score:.3f} ± {r.stderr:.3f} (n={r.episodes})"

    def fidelity(r: Row | None) -> str:
        if r is None:
            return ""
        valid = "" if r.valid_actions is None else f"valid {r.valid_actions:.2f}"
        agree = "" if r.agreement is None else f"agree {r.agreement:.3f}"
        flops = "" if r.flops_vs_teacher is None else f"FLOPs {r.flops_vs_teacher:.2f}x"
        return ", ".join(part for part in (valid, agree, flops) if part)

    return "\n".join(
        [*grid("Score (mean ± standard error, n episodes):", score), "",
         *grid(
            "Replies in the env's action format, agreement with the teacher's actions, FLOPs per episode "
            "relative to the teacher:",
            fidelity,
        )]
    ) + "\n"  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.leaderboard", description=__doc__.split("\n")[0])
    p.add_argument("--runs", default="results/runs", help="folder of run folders (default results/runs)")
    p.add_argument(
        "--out", default="results/leaderboard.csv", help="CSV to write (default results/leaderboard.csv)"
    )
    p.add_argument("--plot", help="PNG to draw (default: the CSV's path with .png)")
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    p.add_argument(
        "--markdown", help="also write the leaderboard as Markdown tables to this file (- for stdout)"
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="write only the rows of --runs (default: keep the CSV's rows that --runs does not re-run)",
    )
    args = p.parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 140)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = collect(Path(args.runs))
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    except LeaderboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.is_file() and not args.replace:
        rows = merge(read_csv(out), rows)
    write_csv(rows, out)
    if args.markdown == "-":
        sys.stdout.write(markdown(rows))
    elif args.markdown:
        Path(args.markdown).write_text(markdown(rows))
    console.print(table(rows))
    console.print(f"wrote {out}", markup=False, highlight=False)
    if not args.no_plot:
        png = Path(args.plot) if args.plot else out.with_suffix(".png")
        plot(rows, png)
        console.print(f"wrote {png}", markup=False, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
