"""Which candidates a web-browsing step shows, and in what order they are asked: AgentBench's ranking.

Facts taken from Mind2Web's evaluation code (OSU-NLP-Group/Mind2Web, ``src/action_prediction``:
``dataloader.get_data_split``, ``dataloader.format_input_multichoice`` and
``metric.ActionEvaluatorMultiChoice.evaluate_dataset_llm``), which AgentBench v0.2's mind2web task runs:

- Ranks come from a candidate ranker (Mind2Web's cross-encoder) whose released scores file,
  ``scores_all_data.pkl``, is ``{"scores": {sample: {node: score}}, "ranks": {sample: {node: rank}}}`` with
  ``sample = "<annotation_id>_<action_uid>"`` and rank 0 the best; ``get_data_split`` copies them into every
  candidate's ``"score"`` and ``"rank"``. :func:`load_ranks` reads that file (or the same layout as JSON).
- The step shows its positives ranked below ``top_k``, then its negatives ranked below ``top_k``
  (``pos_ids + neg_ids``), shuffled. A step whose positives all rank at ``top_k`` or worse cannot be answered
  right.
- They are asked five at a time as choices B-F after "A. None of the above". A pick goes to the end of the
  queue, and questions go on while more than one candidate is left; the answer is the last pick, if a
  candidate is left. A reply without a letter counts as A. (Upstream's ``IndexError`` branch, a letter with
  no choice behind it, drops the prediction; such a letter can only come in a last group of fewer than five,
  after which no candidate is left, so it scores as A does.) :class:`Tournament` is this loop.

From ../shared/reference/METHODS.md: AgentBench asks about 3 questions per step, which is 10 candidates (two
groups of five, then one of the two picks), so ``top_k`` is 10 here (Mind2Web's own default is 50).

The project's own rules, where upstream has no answer or one that cannot be an env:
- Data without ranks (the generated splits; Mind2Web files without scores) shows the positives and the
  first ``num_negatives`` negatives in file order, the positive among the best-ranked negatives.
- Candidates that the page's ``cleaned_html`` lacks are left out before the groups of five are cut
  (upstream keeps them in a group and shows fewer choices).
- A step with one candidate, or with no positive in the top ``top_k``, is still asked (upstream scores it 0
  without a question; an episode must show one). The score is the same unless the single candidate is the
  positive.

Example::

    shown = shown_candidates(("20",), ("11", "30"), {"20": 0, "11": 1, "30": 12}, top_k=10)   # ["20", "11"]
    game = Tournament(["20", "11"])
    game.group                       # ["20", "11"]: choices B and C
    game.answer(Pick("20", "CLICK", ""))
    game.done, game.result           # True, Pick("20", "CLICK", "")
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.core import TaskError
from envs.web_browse.protocol import GROUP_SIZE

#: Candidates a ranked step shows (see the module docstring).
DEFAULT_TOP_K = 10
#: Negatives an unranked step shows next to its positives.
DEFAULT_NUM_NEGATIVES = 9

#: What the scores pickle may construct: numbers stored as numpy scalars, nothing else.
_PICKLE_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "dtype"),
    }
)


def sample_id(annotation_id: str, action_uid: str) -> str:
    """Mind2Web's key of one action step in the scores file."""
    return f"{annotation_id}_{action_uid}"


class _ScoresUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        # A pickle can run any code it names; the scores file needs dicts, strings and numbers only.
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"it names {module}.{name}, which a scores file has no use for")
        return super().find_class(module, name)


def load_ranks(path: str | Path) -> dict[str, dict[str, int]]:
    """``{sample: {node: rank}}`` from Mind2Web's scores file (pickle) or the same layout as JSON."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaskError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        if raw.lstrip()[:1] == b"{":
            data = json.loads(raw.decode("utf-8"))
        else:
            data = _ScoresUnpickler(io.BytesIO(raw)).load()
    except (ValueError, pickle.UnpicklingError, EOFError, UnicodeDecodeError) as exc:
        raise TaskError(f"{path}: not a Mind2Web scores file (a pickle or JSON object): {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("ranks"), Mapping):
        raise TaskError(
            f"{path}: a scores file is an object with a 'ranks' object ({{sample: {{node: rank}}}})"
        )
    ranks: dict[str, dict[str, int]] = {}
    for sample, nodes in data["ranks"].items():
        if not isinstance(nodes, Mapping):
            raise TaskError(f"{path}: ranks of sample {sample!r} must be an object {{node: rank}}")
        try:
            ranks[str(sample)] = {str(node): int(rank) for node, rank in nodes.items()}
        except (TypeError, ValueError):
            raise TaskError(f"{path}: ranks of sample {sample!r} must be integers") from None
    return ranks


def shown_candidates(
    positives: Sequence[str],
    negatives: Sequence[str],
    ranks: Mapping[str, int] | None,
    top_k: int = DEFAULT_TOP_K,
    num_negatives: int = DEFAULT_NUM_NEGATIVES,
) -> list[str]:
    """The candidates a step shows, before the shuffle (see the module docstring).

    ``ranks`` (node -> rank, every candidate ranked) selects AgentBench's top ``top_k``; without ranks, the
    positives and the first ``num_negatives`` negatives.
    """
    if ranks:
        chosen = [c for c in positives if ranks[c] < top_k]
        chosen += [c for c in negatives if ranks[c] < top_k]
    else:
        chosen = [*positives, *negatives[:num_negatives]]
    return list(dict.fromkeys(chosen))


@dataclass(frozen=True)
class Pick:
    """A choice of one element with the operation and value given with it."""

    node_id: str
    operation: str
    value: str


class Tournament:
    """Mind2Web's question loop over a step's shuffled candidates (see the module docstring).

    ``round`` is the tournament round of the current group (1 for groups of first-seen candidates, one more
    for groups of picks) and ``group_no`` its place in that round, for progress reporting.
    """

    def __init__(self, candidates: Sequence[str]):
        if not candidates:
            raise ValueError("a tournament needs at least one candidate")
        self._queue = list(candidates)
        self._level = dict.fromkeys(self._queue, 1)
        self.final: Pick | None = None
        self.round = 0
        self.group_no = 0
        self.group: list[str] = []
        self.done = False
        self._next_group()

    def _next_group(self) -> None:
        self.group, self._queue = self._queue[:GROUP_SIZE], self._queue[GROUP_SIZE:]
        level = min(self._level[c] for c in self.group)
        self.group_no = self.group_no + 1 if level == self.round else 1
        self.round = level

    def answer(self, pick: Pick | None) -> None:
        """Record the current group's answer: a pick, or None for A."""
        if self.done:
            raise RuntimeError("the tournament is over")
        if pick is not None:
            self._queue.append(pick.node_id)
            self._level[pick.node_id] = max(self._level[c] for c in self.group) + 1
            self.final = pick
        if len(self._queue) > 1:
            self._next_group()
        else:
            self.done = True
            self.group = []

    @property
    def result(self) -> Pick | None:
        """The answer once done: the last pick while a candidate is left, else None."""
        return self.final if self.done and self._queue else None
