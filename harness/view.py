"""``python -m harness.view RUN_DIR [RUN_DIR ...] [--out FILE.html]``: one static HTML page of runs.

The page is a single file that opens from disk: no server, no network, CSS and JavaScript inline. It shows
each run's settings and scores (``summary.json``, or scores computed from the episodes when it is missing),
then every task: the judge's verdict (score, metrics, error) and the transcript (the env's observations and
each reply, with the env's ``action_valid`` / ``last_action_error``). Filters: failed only (an error or a
score below 1), one env, one task; two runs side by side on the same tasks (e.g. the teacher against a
student). The filter state lives in the URL's ``#`` part, so a view can be linked:
``runs.html#env=os&task=os-test-0003&failed=1&left=0&right=1``.

Why the data travels as JSON and the page is built by script: transcripts hold HTML (web pages, shell
output), and ``textContent`` renders any text as text, whatever it contains. The JSON is embedded with
``<``, ``>`` and ``&`` escaped, so no transcript can close the ``<script>`` element that holds it.

Example::

    python -m harness.view results/runs/teacher results/runs/gcd --out /tmp/teacher-vs-gcd.html
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.rollout import utc_now
from harness.records import latest, read_records
from harness.stats import env_stats


class ViewError(ValueError):
    """A run folder that cannot be shown: printed as one line, exit status 2."""


@dataclass(frozen=True)
class Run:
    """One run folder as the page shows it: the latest record of each task and the summary."""

    label: str
    path: str
    summary: dict[str, Any]
    episodes: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "path": self.path, "summary": self.summary, "episodes": self.episodes}


def load_run(folder: Path, label: str | None = None) -> Run:
    """The run in ``folder``; its per-env scores come from ``summary.json`` or, without one, the episodes."""
    log = folder / "episodes.jsonl"
    if not folder.is_dir():
        raise ViewError(f"run folder not found: {folder}")
    if not log.is_file():
        raise ViewError(f"{folder} holds no episodes.jsonl: not a run folder of python -m harness.run")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = list(latest(read_records(log, strict=False)).values())
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    summary: dict[str, Any] = {}
    try:
        loaded = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        summary = loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        summary = {}
    if not summary.get("per_env"):
        envs = sorted({str(r["env"]) for r in records})
        summary = {
            **summary,
            "note": "no usable summary.json: scores computed from the episodes",
            "agent": summary.get("agent") or (records[0].get("agent") if records else "?"),
            "per_env": {e: env_stats(r for r in records if r["env"] == e).as_dict() for e in envs},
        }
    return Run(label=label or folder.resolve().name, path=str(folder), summary=summary, episodes=records)


def unique_labels(folders: Sequence[Path]) -> list[str]:
    """Short labels for the runs: the folder name, or more of its path where two names clash."""
    resolved = [f.resolve() for f in folders]
    depth = 1
    while True:
        labels = ["/".join(p.parts[-depth:]) for p in resolved]
        if len(set(labels)) == len(labels) or depth >= max(len(p.parts) for p in resolved):
            return labels
        depth += 1


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>`` or ``<!--`` can form from the data."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, default=str)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render(runs: Sequence[Run], title: str = "promptless runs") -> str:
    """The whole page as one string."""
    data = {"generated": utc_now(), "runs": [r.as_json() for r in runs]}
    return (
        PAGE.replace("%TITLE%", html.escape(title))
        .replace("%CSS%", CSS)
        .replace("%JS%", JS)
        .replace("%DATA%", _script_json(data))
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.view", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders written by python -m harness.run")
    p.add_argument("--out", default="runs.html", help="HTML file to write (default runs.html)")
    p.add_argument("--title", default="promptless runs", help="the page's title")
    args = p.parse_args(argv)
    folders = [Path(r) for r in args.runs]
    try:
        runs = [load_run(f, label) for f, label in zip(folders, unique_labels(folders), strict=True)]
    except ViewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(runs, args.title), encoding="utf-8")
    episodes = sum(len(r.episodes) for r in runs)
    print(
        f"wrote {out} ({len(runs)} runs, {episodes} episodes); open it in a browser: file://{out.resolve()}"
    )
    return 0


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title>
<style>%CSS%</style>
</head>
<body>
<header><h1>%TITLE%</h1><p id="generated"></p></header>
<section id="runs"></section>
<section id="controls">
  <label>env <select id="f-env"><option value="">all</option></select></label>
  <label>task <input id="f-task" list="task-ids" placeholder="task id (or part of it)" size="22"></label>
  <datalist id="task-ids"></datalist>
  <label><input type="checkbox" id="f-failed"> failed only (error or score &lt; 1)</label>
  <label>run <select id="f-left"></select></label>
  <label>beside <select id="f-right"><option value="">none</option></select></label>
  <span id="count"></span>
</section>
<main id="tasks"></main>
<noscript><p>This page is built by its inline script: allow JavaScript for this file.</p></noscript>
<script type="application/json" id="data">%DATA%</script>
<script>%JS%</script>
</body>
</html>
"""

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.2em 2em; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0.6em 0 0.1em; } h2 { font-size: 1.1em; margin: 0 0 0.4em; }
#generated { color: #666; margin: 0 0 0.8em; }
#runs { display: flex; flex-wrap: wrap; gap: 0.8em; }
.run { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 0.8em; flex: 1 1 24em;
  min-width: 0; overflow-x: auto; }
table.scores { font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.3em 0; } td, th { padding: 0.1em 0.6em 0.1em 0; text-align: left; }
th { color: #555; font-weight: 600; white-space: nowrap; } td.num, th.num { text-align: right; }
.settings td:first-child { color: #555; }
#controls { position: sticky; top: 0; background: #eef1f5; padding: 0.5em 0.7em; margin: 1em 0 0.6em;
  border-radius: 6px; display: flex; flex-wrap: wrap; gap: 1.2em; align-items: center; z-index: 1; }
#count { color: #555; margin-left: auto; }
.task { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 0 0 0.8em; padding: 0.5em 0.7em; }
.task > h3 { margin: 0 0 0.4em; font-size: 1em; font-family: ui-monospace, monospace; }
.cols { display: grid; gap: 0.8em; } .cols.two { grid-template-columns: 1fr 1fr; }
.episode { min-width: 0; } .episode > h4 { margin: 0 0 0.3em; font-size: 0.95em; }
.badge { display: inline-block; padding: 0 0.45em; border-radius: 4px; font-size: 0.85em; margin-left: 0.3em; }
.pass { background: #d9f2df; color: #14532d; } .fail { background: #fde2e1; color: #7f1d1d; }
.error { background: #7f1d1d; color: #fff; } .invalid { background: #fff1c2; color: #713f12; }
.verdict { background: #f6f7f9; border-radius: 4px; padding: 0.3em 0.5em; margin: 0 0 0.4em; }
.verdict .err { color: #7f1d1d; white-space: pre-wrap; font-family: ui-monospace, monospace; }
.msg { border-left: 3px solid #9aa5b1; padding: 0 0 0 0.5em; margin: 0.35em 0; }
.msg.assistant { border-color: #2563eb; } .role { font-size: 0.8em; color: #555; text-transform: uppercase; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0.1em 0; font: 12px/1.35 ui-monospace, monospace; }
.missing { color: #888; font-style: italic; }
"""

JS = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const RUNS = DATA.runs;
const MAX_TASKS = 300;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const fmt = (v, digits = 3) => (v === null || v === undefined ? "-" : Number(v).toFixed(digits));
const failed = (ep) => Boolean(ep.error) || Number(ep.score) < 1;

function settingsTable(summary) {
  const keys = ["agent", "model", "split", "env", "seed", "limit", "status", "failure", "note", "fail_on_error",
    "max_turns", "episode_timeout", "started", "finished"];
  const table = el("table", {class: "settings"});
  for (const key of keys) {
    if (summary[key] === undefined || summary[key] === null || summary[key] === "") continue;
    table.append(el("tr", {}, el("td", {}, key), el("td", {}, String(summary[key]))));
  }
  const options = summary.agent_options || {};
  if (Object.keys(options).length) {
    table.append(el("tr", {}, el("td", {}, "agent_options"), el("td", {}, JSON.stringify(options))));
  }
  const commit = (summary.versions || {}).git_commit;
  if (commit) table.append(el("tr", {}, el("td", {}, "git commit"), el("td", {}, commit.slice(0, 12))));
  return table;
}

function scoreTable(summary) {
  const heads = ["env", "n", "errors", "score", "±", "ok score", "prompt/ep", "FLOPs/ep", "model s/ep"];
  const table = el("table", {class: "scores"},
    el("tr", {}, ...heads.map((h, i) => el("th", {class: i ? "num" : ""}, h))));
  for (const [env, s] of Object.entries(summary.per_env || {})) {
    table.append(el("tr", {},
      el("td", {}, env), el("td", {class: "num"}, s.episodes), el("td", {class: "num"}, s.errors),
      el("td", {class: "num"}, fmt(s.score)), el("td", {class: "num"}, fmt(s.stderr)),
      el("td", {class: "num"}, fmt(s.score_ok)), el("td", {class: "num"}, fmt(s.prompt_tokens, 0)),
      el("td", {class: "num"}, s.flops_per_episode == null ? "unknown" : Number(s.flops_per_episode).toExponential(2)),
      el("td", {class: "num"}, fmt(s.latency_s, 2))));
  }
  return table;
}

function renderRuns() {
  const box = document.getElementById("runs");
  RUNS.forEach((run, i) => {
    const full = el("details", {}, el("summary", {}, "summary.json"),
      el("pre", {}, JSON.stringify(run.summary, null, 2)));
    box.append(el("div", {class: "run", id: "run-" + i},
      el("h2", {}, run.label), el("div", {class: "path"}, run.path),
      settingsTable(run.summary), scoreTable(run.summary), full));
  });
}

function badge(ep) {
  if (ep.error) return el("span", {class: "badge error"}, "error");
  return el("span", {class: "badge " + (failed(ep) ? "fail" : "pass")}, "score " + fmt(ep.score));
}

function verdict(ep) {
  const box = el("div", {class: "verdict"});
  box.append(el("div", {}, "score ", el("b", {}, fmt(ep.score)), ` · ${ep.turns} turns`,
    ep.truncated ? " · truncated (turn limit)" : "", ` · ${fmt(ep.wall_s, 1)} s`));
  const metrics = Object.entries(ep.metrics || {}).map(([k, v]) => `${k}=${v}`).join("  ");
  if (metrics) box.append(el("div", {class: "metrics"}, "metrics: " + metrics));
  if (ep.error) box.append(el("div", {class: "err"}, "error: " + ep.error));
  return box;
}

function transcript(ep, open) {
  const details = el("details", open ? {open: ""} : {}, el("summary", {}, `transcript (${(ep.transcript || []).length} messages)`));
  for (const msg of ep.transcript || []) {
    const head = el("div", {class: "role"}, msg.role);
    if (msg.role === "assistant" && msg.action_valid === false) {
      head.append(el("span", {class: "badge invalid"}, "invalid action"));
    }
    const node = el("div", {class: "msg " + msg.role}, head, el("pre", {}, msg.content));
    if (msg.role === "assistant" && msg.last_action_error) {
      node.append(el("div", {class: "err action-error"}, "env: " + msg.last_action_error));
    }
    details.append(node);
  }
  return details;
}

function episodeColumn(run, ep, open) {
  if (!ep) return el("div", {class: "episode"}, el("h4", {}, run.label), el("div", {class: "missing"}, "not in this run"));
  return el("div", {class: "episode", "data-run": run.label},
    el("h4", {}, run.label, badge(ep)), verdict(ep), transcript(ep, open));
}

const state = {env: "", task: "", failed: false, left: 0, right: RUNS.length > 1 ? 1 : -1};

function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (params.has("env")) state.env = params.get("env");
  if (params.has("task")) state.task = params.get("task");
  if (params.has("failed")) state.failed = params.get("failed") === "1";
  const index = (v, fallback) => (v === null || v === "" ? fallback : Math.min(Math.max(-1, parseInt(v, 10)), RUNS.length - 1));
  state.left = Math.max(0, index(params.get("left"), state.left));
  state.right = index(params.get("right"), state.right);
  if (state.right === state.left) state.right = -1;
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.env) params.set("env", state.env);
  if (state.task) params.set("task", state.task);
  if (state.failed) params.set("failed", "1");
  params.set("left", state.left);
  params.set("right", state.right);
  history.replaceState(null, "", "#" + params.toString());
}

function renderTasks() {
  const columns = [RUNS[state.left], state.right >= 0 ? RUNS[state.right] : null].filter(Boolean);
  const keys = new Map();
  for (const run of columns) {
    for (const ep of run.episodes) {
      const key = ep.env + "\u0000" + ep.task_id;
      if (!keys.has(key)) keys.set(key, {env: ep.env, task_id: ep.task_id, eps: new Map()});
      keys.get(key).eps.set(run.label, ep);
    }
  }
  const needle = state.task.trim().toLowerCase();
  const shown = [...keys.values()].filter((t) =>
    (!state.env || t.env === state.env) &&
    (!needle || t.task_id.toLowerCase().includes(needle)) &&
    (!state.failed || [...t.eps.values()].some(failed)));
  const box = document.getElementById("tasks");
  box.replaceChildren();
  shown.slice(0, MAX_TASKS).forEach((t, i) => {
    const cols = el("div", {class: "cols" + (columns.length > 1 ? " two" : "")},
      ...columns.map((run) => episodeColumn(run, t.eps.get(run.label), i === 0)));
    box.append(el("article", {class: "task", "data-env": t.env, "data-task": t.task_id},
      el("h3", {}, `${t.env} · ${t.task_id}`), cols));
  });
  const more = shown.length > MAX_TASKS ? ` (first ${MAX_TASKS} shown: narrow the filters)` : "";
  document.getElementById("count").textContent = `${shown.length} of ${keys.size} tasks${more}`;
}

function setupControls() {
  const envs = [...new Set(RUNS.flatMap((r) => r.episodes.map((e) => e.env)))].sort();
  const envSelect = document.getElementById("f-env");
  for (const env of envs) envSelect.append(el("option", {value: env}, env));
  const ids = [...new Set(RUNS.flatMap((r) => r.episodes.map((e) => e.task_id)))].sort();
  document.getElementById("task-ids").append(...ids.map((id) => el("option", {value: id})));
  const left = document.getElementById("f-left");
  const right = document.getElementById("f-right");
  RUNS.forEach((run, i) => {
    left.append(el("option", {value: i}, run.label));
    right.append(el("option", {value: i}, run.label));
  });
  right.firstElementChild.value = "-1";
  envSelect.value = state.env;
  document.getElementById("f-task").value = state.task;
  document.getElementById("f-failed").checked = state.failed;
  left.value = String(state.left);
  right.value = String(state.right);
  const update = () => {
    state.env = envSelect.value;
    state.task = document.getElementById("f-task").value;
    state.failed = document.getElementById("f-failed").checked;
    state.left = parseInt(left.value, 10);
    state.right = parseInt(right.value, 10);
    if (state.right === state.left) { state.right = -1; right.value = "-1"; }
    writeHash();
    renderTasks();
  };
  for (const id of ["f-env", "f-task", "f-failed", "f-left", "f-right"]) {
    document.getElementById(id).addEventListener("input", update);
  }
}

document.getElementById("generated").textContent =
  `${RUNS.length} run(s), ${RUNS.reduce((n, r) => n + r.episodes.length, 0)} episodes; page written ${DATA.generated}`;
readHash();
renderRuns();
setupControls();
renderTasks();
"""


if __name__ == "__main__":
    sys.exit(main())
