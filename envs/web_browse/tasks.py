"""Web-browsing tasks: the records, the seeded splits, and the Mind2Web-format loader.

A ``WebTask`` is a web task (goal, site) with its action steps; an ``Episode`` is ONE step of one task,
as in Mind2Web and AgentBench, where every step is judged on its own with the annotated previous actions.
Two sources:

- the seeded generator in ``envs.web_browse.sites``: episode ``web-<split>-<index:04d>`` is the task of seed
  ``split.start + index`` and one of its steps, drawn from the same seed; ``test`` (100 episodes) and
  ``dev`` are fixed, and ``TEST_SPLIT_SHA256`` pins the test split's bytes (bump the env version and this
  digest together when the generator changes);
- ``load_mind2web(path, ranks)``: the public Mind2Web formats, a JSON list or JSON Lines of either
  Mind2Web's train/test records (one task each: ``annotation_id``, ``website``, ``domain``,
  ``confirmed_task``, ``action_reprs``, ``actions`` with ``action_uid``, ``cleaned_html``, ``operation``,
  ``pos_candidates`` and ``neg_candidates``) or Multimodal-Mind2Web's rows (one action each: the same task
  fields with the action's fields beside them, ``target_action_index`` its step, and ``operation`` and the
  candidates as JSON strings). One episode per action, id ``<annotation_id>-<step>``. Candidate ranks come
  from the candidates' ``rank`` fields or from a scores file (``envs.web_browse.candidates.load_ranks``).

Example::

    episodes = generated_episodes("test")                  # 100 episodes
    ep = generated_episode("train", 12)                    # 'web-train-0012'
    ep.step.operation, ep.step.value, ep.task.goal
    tasks = load_mind2web("tests/envs/data/mind2web_sample.json")
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from envs.core import TaskError, get_split
from envs.web_browse.candidates import sample_id
from envs.web_browse.html import NODE_ID_ATTR, parse_page
from envs.web_browse.protocol import OPERATIONS
from envs.web_browse.sites import generate

#: Digest of the generated test split (see ``split_digest``); a change here is a new env version.
TEST_SPLIT_SHA256 = "0fd98c7d82616cdc422580fde0fe449f0d30ed92de54076c13fae9e371659f46"


@dataclass(frozen=True)
class WebStep:
    """One action step: the page, the ranked candidates, and the gold action."""

    html: str
    positives: tuple[str, ...]  # backend node ids of the correct element(s); may be empty in Mind2Web data
    negatives: tuple[str, ...]  # other candidates, best-ranked first
    operation: str  # CLICK, SELECT or TYPE
    value: str  # "" for CLICK
    previous_actions: tuple[str, ...]  # Mind2Web ``action_reprs`` of the steps before this one
    ranks: tuple[tuple[str, int], ...] = ()  # (node, rank) of every candidate when a ranker ranked them

    @property
    def gold(self) -> str | None:
        return self.positives[0] if self.positives else None


@dataclass(frozen=True)
class WebTask:
    task_id: str
    website: str
    domain: str
    goal: str
    steps: tuple[WebStep, ...]
    step_numbers: tuple[int, ...] = ()  # the steps' places in the task, when a file holds only some of them


@dataclass(frozen=True)
class Episode:
    """One step of one task: what an env episode plays."""

    episode_id: str
    task: WebTask
    step_index: int

    @property
    def step(self) -> WebStep:
        return self.task.steps[self.step_index]


def episode_id(split: str, index: int) -> str:
    return f"web-{split}-{index:04d}"


def parse_episode_id(text: str) -> tuple[str, int] | None:
    """``("test", 7)`` for ``"web-test-0007"``; None for ids that are not generated ones."""
    parts = text.split("-")
    if len(parts) != 3 or parts[0] != "web" or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


@lru_cache(maxsize=256)
def generated_episode(split: str, index: int) -> Episode:
    """Episode ``index`` of a generated split (deterministic: same split and index, same bytes)."""
    spec = get_split(split)
    if not 0 <= index < spec.size:
        raise ValueError(f"episode index {index} is outside split {split!r} (size {spec.size})")
    seed = spec.start + index
    draft = generate(seed)
    task = WebTask(
        task_id=f"{split}-task-{index:04d}",
        website=draft.website,
        domain=draft.domain,
        goal=draft.goal,
        steps=tuple(
            WebStep(s.html, s.positives, s.negatives, s.operation, s.value, s.previous_actions)
            for s in draft.steps
        ),
    )
    step_index = random.Random(seed * 7919 + 17).randrange(len(task.steps))
    return Episode(episode_id(split, index), task, step_index)


def generated_episodes(split: str, limit: int | None = None) -> list[Episode]:
    return [generated_episode(split, i) for i in range(len(get_split(split).seeds(limit)))]


def split_digest(split: str = "test") -> str:
    """SHA-256 over every byte a generated split shows (goals, pages, candidates, gold actions)."""
    digest = hashlib.sha256()
    for ep in generated_episodes(split):
        step = ep.step
        record = [ep.episode_id, ep.task.website, ep.task.goal, step.html, step.positives, step.negatives,
                  step.operation, step.value, step.previous_actions]  # fmt: skip
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


# --- Mind2Web format ----------------------------------------------------------------------------------------


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise TaskError(f"{path}: not UTF-8 text") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
        for i, item in enumerate(data):
            yield f"{path} item {i}", item
        return
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if stripped.startswith("{") and len(lines) > 1:
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict):
            raise TaskError(
                f"{path}: holds one JSON object, not Mind2Web records: give a JSON list of records "
                "or JSON Lines (one record per line)"
            )
    for lineno, line in lines:
        try:
            yield f"{path} line {lineno}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path} line {lineno}: not valid JSON: {exc.msg}") from None


def _field(record: dict[str, Any], name: str, kind: type, where: str) -> Any:
    if name not in record:
        raise TaskError(f"{where}: missing field {name!r}")
    value = record[name]
    if kind is not str and isinstance(value, str):
        # Multimodal-Mind2Web stores objects and lists as JSON strings.
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if not isinstance(value, kind):
        raise TaskError(f"{where}: field {name!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _candidate(cand: Any, where: str) -> tuple[str, int | None]:
    """A candidate's backend node id and its ranker's rank (None when it has none)."""
    if isinstance(cand, str):  # Multimodal-Mind2Web: each candidate is a JSON string
        try:
            cand = json.loads(cand)
        except json.JSONDecodeError:
            raise TaskError(f"{where}: a candidate string is not JSON") from None
    if not isinstance(cand, dict):
        raise TaskError(f"{where}: a candidate must be an object")
    rank = cand.get("rank")
    rank = rank if isinstance(rank, int) and not isinstance(rank, bool) else None
    if cand.get(NODE_ID_ATTR) is not None:
        return str(cand[NODE_ID_ATTR]), rank
    attrs = cand.get("attributes")
    if isinstance(attrs, str):
        try:
            attrs = json.loads(attrs)
        except json.JSONDecodeError:
            raise TaskError(f"{where}: candidate 'attributes' is not a JSON string") from None
    if isinstance(attrs, dict) and attrs.get(NODE_ID_ATTR) is not None:
        return str(attrs[NODE_ID_ATTR]), rank
    raise TaskError(f"{where}: candidate has no {NODE_ID_ATTR!r} (neither a field nor in 'attributes')")


def _step(
    action: Any,
    previous: tuple[str, ...],
    annotation_id: str,
    ranks: Mapping[str, Mapping[str, int]] | None,
    at: str,
) -> WebStep:
    """One action step of either format; ``ranks`` is a scores file's ``{sample: {node: rank}}``."""
    if not isinstance(action, dict):
        raise TaskError(f"{at}: an action must be a JSON object")
    html = _field(action, "cleaned_html", str, at)
    operation = _field(action, "operation", dict, at)
    op = operation.get("op")
    if op not in OPERATIONS:
        raise TaskError(f"{at}: unknown operation {op!r}; expected one of {list(OPERATIONS)}")
    value = operation.get("value", "")
    if not isinstance(value, str):
        raise TaskError(f"{at}: operation value must be a string")
    page = parse_page(html, source=at)
    pos = [
        _candidate(c, f"{at} candidate {i}") for i, c in enumerate(_field(action, "pos_candidates", list, at))
    ]
    neg = [
        _candidate(c, f"{at} candidate {i}") for i, c in enumerate(_field(action, "neg_candidates", list, at))
    ]
    rank_of: dict[str, int] = {node: r for node, r in (*pos, *neg) if r is not None}
    if ranks is not None:
        uid = _field(action, "action_uid", str, at)
        key = sample_id(annotation_id, uid)
        if key not in ranks:
            raise TaskError(f"{at}: the ranks file has no sample {key!r}")
        rank_of = dict(ranks[key])
    # Mind2Web's candidate lists sometimes name nodes the snapshot lacks: those cannot be shown.
    positives = [c for c in dict.fromkeys(node for node, _ in pos) if c in page.index]
    negatives = [c for c in dict.fromkeys(node for node, _ in neg) if c in page.index and c not in positives]
    if not positives and not negatives:
        raise TaskError(f"{at}: no candidate element is in the page's cleaned_html")
    shown = [*positives, *negatives]
    unranked = [c for c in shown if c not in rank_of]
    if ranks is not None and unranked:
        raise TaskError(f"{at}: the ranks file has no rank for candidate {unranked[0]!r}")
    # A rank orders the candidates (a candidate without one keeps its place in the list as its rank); only a
    # step whose candidates are all ranked gets AgentBench's top-k cut.
    for group in (positives, negatives):
        place = {c: i for i, c in enumerate(group)}
        group.sort(key=lambda c: (rank_of.get(c, place[c]), place[c]))
    step_ranks = () if unranked else tuple((c, rank_of[c]) for c in [*positives, *negatives])
    return WebStep(html, tuple(positives), tuple(negatives), op, value, previous, step_ranks)


def _task_record(
    record: dict[str, Any], ranks: Mapping[str, Mapping[str, int]] | None, where: str
) -> WebTask:
    """A record of Mind2Web's train/test JSON: one task with all its ``actions``."""
    annotation_id = str(_field(record, "annotation_id", str, where))
    website = _field(record, "website", str, where)
    domain = _field(record, "domain", str, where)
    goal = _field(record, "confirmed_task", str, where)
    reprs = _field(record, "action_reprs", list, where)
    actions = _field(record, "actions", list, where)
    if not actions:
        raise TaskError(f"{where}: 'actions' is empty")
    if len(reprs) != len(actions):
        raise TaskError(f"{where}: {len(reprs)} action_reprs for {len(actions)} actions")
    previous = tuple(str(r) for r in reprs)
    steps = tuple(
        _step(action, previous[:k], annotation_id, ranks, f"{where} action {k}")
        for k, action in enumerate(actions)
    )
    return WebTask(annotation_id, website, domain, goal, steps)


def _is_action_row(record: Any) -> bool:
    """Multimodal-Mind2Web's layout: one action per record, with the task's fields repeated."""
    return isinstance(record, dict) and "actions" not in record and "cleaned_html" in record


def _row_number(record: dict[str, Any], where: str) -> int:
    if "target_action_index" not in record:
        raise TaskError(f"{where}: missing field 'target_action_index'")
    raw = record["target_action_index"]  # a string of digits in Multimodal-Mind2Web
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit())
    ):
        raise TaskError(f"{where}: field 'target_action_index' must be a step number, got {raw!r}")
    return int(raw)


def _row_tasks(
    rows: list[tuple[str, dict[str, Any]]], ranks: Mapping[str, Mapping[str, int]] | None
) -> WebTask:
    """The rows of one annotation (Multimodal-Mind2Web) as one task with the steps they hold."""
    where, first = rows[0]
    annotation_id = str(_field(first, "annotation_id", str, where))
    website = _field(first, "website", str, where)
    domain = _field(first, "domain", str, where)
    goal = _field(first, "confirmed_task", str, where)
    numbered: dict[int, WebStep] = {}
    for at, row in rows:
        number = _row_number(row, at)
        if number in numbered:
            raise TaskError(f"{at}: annotation {annotation_id!r} has step {number} twice")
        reprs = _field(row, "action_reprs", list, at)
        if number >= len(reprs):
            raise TaskError(f"{at}: target_action_index {number} but only {len(reprs)} action_reprs")
        numbered[number] = _step(row, tuple(str(r) for r in reprs[:number]), annotation_id, ranks, at)
    order = sorted(numbered)
    return WebTask(annotation_id, website, domain, goal, tuple(numbered[n] for n in order), tuple(order))


def load_mind2web(path: str | Path, ranks: Mapping[str, Mapping[str, int]] | None = None) -> list[WebTask]:
    """Read Mind2Web records; ``TaskError`` names the file, the record, the action and the field on bad input.

    ``ranks`` (``envs.web_browse.candidates.load_ranks``) ranks every step's candidates by its sample id.
    """
    path = Path(path)
    tasks: dict[str, WebTask | list[tuple[str, dict[str, Any]]]] = {}
    for where, record in _records(path):
        if not isinstance(record, dict):
            raise TaskError(f"{where}: a record must be a JSON object")
        annotation_id = str(_field(record, "annotation_id", str, where))
        if _is_action_row(record):
            rows = tasks.setdefault(annotation_id, [])
            if isinstance(rows, WebTask):
                raise TaskError(f"{where}: annotation {annotation_id!r} is also a whole-task record")
            rows.append((where, record))
        elif annotation_id in tasks:
            raise TaskError(f"{where}: annotation {annotation_id!r} appears twice")
        else:
            tasks[annotation_id] = _task_record(record, ranks, where)
    if not tasks:
        raise TaskError(f"{path}: no records")
    return [t if isinstance(t, WebTask) else _row_tasks(t, ranks) for t in tasks.values()]


def mind2web_episodes(tasks: list[WebTask]) -> list[Episode]:
    """One episode per step, id ``<annotation_id>-<step number>``."""
    return [
        Episode(f"{t.task_id}-{t.step_numbers[k] if t.step_numbers else k}", t, k)
        for t in tasks
        for k in range(len(t.steps))
    ]
