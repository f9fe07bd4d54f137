"""``promptless/WebBrowse-v0``: one Mind2Web action step per episode, played as AgentBench plays it.

The step's candidates are chosen and asked as AgentBench does (:mod:`envs.web_browse.candidates`, which says
which facts come from where): the positives among the top-ranked negatives (Mind2Web's ranks below
``top_k`` when the data carry ranks; else the positives and the first ``num_negatives`` negatives),
shuffled with the reset seed and asked five at a time as choices B-F, with "A. None of the above". Every
question is one agent turn whose observation is the query turn (page pruned around that group, task,
previous actions, choices). A pick goes to the back of the queue until one candidate is left: the answer is
the last pick, with the operation and value given with it (Mind2Web's ``evaluate_dataset_llm`` loop, ~3
agent turns per step at the default 10 candidates). An invalid reply counts as choosing A for its group,
with the reason in ``info["last_action_error"]``.

Final ``info``: ``score`` (= ``step_success``), ``element_acc``, ``op_f1``, ``step_success``, ``picked``.

Example::

    env = WebBrowseEnv(split="test", prompt_variant="react")
    obs, info = env.reset(options={"task_id": "web-test-0003"})
    # Mind2Web's own files: WebBrowseEnv(tasks_file="test_task_0.json", ranks_file="scores_all_data.pkl")
    while True:
        obs, reward, terminated, truncated, info = env.step(env.oracle_reply())
        if terminated:
            break
    info["score"]    # 1.0
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any

from envs.core import AGENTBENCH, Message, TaskError, TextEnv, get_split
from envs.web_browse.candidates import (
    DEFAULT_NUM_NEGATIVES,
    DEFAULT_TOP_K,
    Pick,
    Tournament,
    load_ranks,
    shown_candidates,
)
from envs.web_browse.html import Page, View, parse_page
from envs.web_browse.metrics import step_metrics
from envs.web_browse.protocol import (
    NONE_CHOICE,
    PROMPT_VARIANTS,
    SYNTAXES,
    InvalidAction,
    WebAction,
    format_query,
    parse_reply,
    prompt_messages,
    render_action,
)
from envs.web_browse.tasks import (
    Episode,
    episode_id,
    generated_episode,
    load_mind2web,
    mind2web_episodes,
    parse_episode_id,
)

#: The observation after the last turn; the episode is over and nothing more is asked.
DONE_OBSERVATION = "The step is finished."

_TAG = re.compile(r"<[^>]*>?")
_THOUGHTS_PICK = (
    "The next step is to {what}, and choice {letter} is the element for it.",
    "Following the task and the previous actions, I should {what} now: that is {letter}.",
    "{letter} lets me {what}, which is what comes next.",
    "Next I need to {what}; {letter} does that.",
)
_THOUGHTS_NONE = (
    "None of these elements is the next step of the task.",
    "The element needed next is not among these choices, so none of the above.",
    "These choices do not help with the next action.",
    "I cannot find the right element for the next step here.",
)


@lru_cache(maxsize=128)
def _parsed(html: str, source: str) -> Page:
    # Views never modify a Page, so episodes replayed with other seeds share one parse.
    return parse_page(html, source=source)


class WebBrowseEnv(TextEnv):
    """Mind2Web-style multiple choice over pruned HTML, AgentBench's protocol (see the module docstring)."""

    env_name = "web"
    prompt_variants = PROMPT_VARIANTS
    independent_turns = True  # each round of choices is a fresh query, as in AgentBench
    syntaxes = SYNTAXES
    # "Thought: ... Answer: C. Action: SELECT Value: ..." is a few short lines; a line opening with three
    # quotes would start the next (invented) HTML observation.
    max_new_tokens = 96
    stop_sequences = ("\n'''",)

    def __init__(
        self,
        split: str = "test",
        tasks_file: str | None = None,
        prompt_variant: str = AGENTBENCH,
        limit: int | None = None,
        num_negatives: int = DEFAULT_NUM_NEGATIVES,
        render_mode: str | None = None,
        ranks_file: str | None = None,
        top_k: int = DEFAULT_TOP_K,
    ):
        super().__init__(prompt_variant=prompt_variant, render_mode=render_mode)
        if num_negatives < 0:
            raise ValueError(f"num_negatives must be >= 0, got {num_negatives}")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1 or None, got {limit}")
        if ranks_file is not None and tasks_file is None:
            raise ValueError("ranks_file ranks the candidates of a tasks_file: give both")
        self.split = split
        self.num_negatives = num_negatives
        self.top_k = top_k
        self._file_episodes: dict[str, Episode] | None = None
        if tasks_file is not None:
            ranks = load_ranks(ranks_file) if ranks_file is not None else None
            episodes = mind2web_episodes(load_mind2web(tasks_file, ranks))
            self._file_episodes = {ep.episode_id: ep for ep in episodes[:limit]}
            self._size = len(self._file_episodes)
        else:
            self._size = len(get_split(split).seeds(limit))
        self._ids: list[str] | None = None  # built on first use: the train split has a million ids
        self._reset_state()

    def _reset_state(self) -> None:
        self._episode: Episode | None = None
        self._page: Page | None = None
        self._game: Tournament | None = None
        self._view: View | None = None
        self._done = True
        self._last_obs = ""
        self._oracle_rng = random.Random(0)

    # --- TextEnv contract ------------------------------------------------------------------------------------

    def prompt_messages(self) -> list[Message]:
        return prompt_messages(self.prompt_variant)

    def task_ids(self) -> list[str]:
        if self._ids is None:
            if self._file_episodes is not None:
                self._ids = list(self._file_episodes)
            else:
                self._ids = [episode_id(self.split, i) for i in range(self._size)]
        return list(self._ids)

    def pick_task_id(self, options: dict[str, Any] | None) -> str:
        """As ``TextEnv.pick_task_id`` (same draws from ``np_random``), without listing a million ids."""
        if self._file_episodes is not None:
            return super().pick_task_id(options)
        if options and options.get("task_id") is not None:
            task_id = str(options["task_id"])
            parsed = parse_episode_id(task_id)
            if parsed is None or parsed[0] != self.split or parsed[1] >= self._size:
                raise ValueError(
                    f"unknown task_id {task_id!r} for env 'web' (split {self.split!r}, {self._size} tasks)"
                )
            return task_id
        return episode_id(self.split, int(self.np_random.integers(0, self._size)))

    def _load(self, task_id: str) -> Episode:
        if self._file_episodes is not None:
            return self._file_episodes[task_id]
        parsed = parse_episode_id(task_id)
        if parsed is None:
            raise ValueError(f"unknown task_id {task_id!r} for env 'web'")
        return generated_episode(*parsed)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        task_id = self.pick_task_id(options)
        self._reset_state()
        episode = self._load(task_id)
        step = episode.step
        self._episode = episode
        self._page = _parsed(step.html, task_id)
        candidates = shown_candidates(
            step.positives, step.negatives, dict(step.ranks), self.top_k, self.num_negatives
        )
        if not candidates:
            raise TaskError(f"{task_id}: the step has no candidates")
        order = self.np_random.permutation(len(candidates))
        self._game = Tournament([candidates[i] for i in order])
        self._oracle_rng = random.Random(int(self.np_random.integers(0, 2**31 - 1)))
        self._done = False
        obs = self._observe()
        info = {"task_id": task_id, "num_candidates": len(candidates), "round": 1, "group": 1}
        return obs, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._done or self._episode is None or self._view is None:
            raise RuntimeError("the episode is over (or never started): call reset() first")
        if not isinstance(action, str):
            raise TypeError(f"the action is the agent's reply text, got {type(action).__name__}")
        error = ""
        try:
            parsed: WebAction | None = parse_reply(action, self.prompt_variant)
        except InvalidAction as exc:
            parsed, error = (
                None,
                f"invalid reply ({self.prompt_variant} syntax): {exc}; counted as choosing A",
            )
        choices = self._view.choices
        game = self._game
        assert game is not None
        pick: Pick | None = None
        if parsed is not None and parsed.choice != NONE_CHOICE:
            index = ord(parsed.choice) - ord("B")
            if index >= len(choices):
                last = chr(ord("A") + len(choices))
                error = f"choice {parsed.choice} is not offered (this turn's choices are A-{last}); counted as choosing A"
            else:
                assert parsed.operation is not None  # guaranteed by WebAction for choices B-F
                pick = Pick(choices[index][0], parsed.operation, parsed.value)
        info: dict[str, Any] = {
            "task_id": self._episode.episode_id,
            "action_valid": not error,
            "last_action_error": error,
        }
        game.answer(pick)
        if game.done:
            return self._finish(game.result, info)
        info.update(round=game.round, group=game.group_no)
        return self._observe(), 0.0, False, False, info

    def _finish(
        self, pick: Pick | None, info: dict[str, Any]
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        assert self._episode is not None
        step = self._episode.step
        metrics = step_metrics(
            pick.node_id if pick else None,
            pick.operation if pick else None,
            pick.value if pick else "",
            positives=step.positives,
            gold_op=step.operation,
            gold_value=step.value,
        )
        self._done = True
        self._view = None
        self._last_obs = DONE_OBSERVATION
        info.update(
            score=metrics.score,
            element_acc=metrics.element_acc,
            op_f1=metrics.op_f1,
            step_success=metrics.step_success,
            picked=pick.node_id if pick else None,
            rounds=self._game.round if self._game else 0,
        )
        return DONE_OBSERVATION, metrics.score, True, False, info

    def _observe(self) -> str:
        assert self._episode is not None and self._page is not None
        assert self._game is not None
        self._view = self._page.view(self._game.group)
        step = self._episode.step
        self._last_obs = format_query(
            self._view.html,
            self._episode.task.goal,
            step.previous_actions,
            [text for _, text in self._view.choices],
        )
        return self._last_obs

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_obs
        return None

    # --- privileged ------------------------------------------------------------------------------------------

    def oracle_reply(self) -> str:
        """Answer the current group from the gold: its positive with the gold operation, else A."""
        if self._done or self._episode is None or self._view is None:
            raise RuntimeError("no question is pending: call reset() first")
        step = self._episode.step
        positives = set(step.positives)
        rng = self._oracle_rng
        for i, (node_id, text) in enumerate(self._view.choices):
            if node_id in positives:
                letter = chr(ord("B") + i)
                value = "" if step.operation == "CLICK" else step.value.strip()
                words = " ".join(_TAG.sub(" ", text).split()[:6])
                target = f'"{words}"' if words else "it"
                what = {"CLICK": f"click {target}", "SELECT": f"select {value}", "TYPE": f"type {value}"}[
                    step.operation
                ]
                thought = rng.choice(_THOUGHTS_PICK).format(what=what, letter=letter)
                return render_action(WebAction(letter, step.operation, value, thought), self.prompt_variant)
        return render_action(WebAction(NONE_CHOICE, thought=rng.choice(_THOUGHTS_NONE)), self.prompt_variant)
