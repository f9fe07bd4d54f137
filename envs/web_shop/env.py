"""``promptless/WebShop-v0``: a mock web shop in WebShop's text format, played with AgentBench's protocol.

An episode is one goal: the agent searches, opens products, picks options and clicks "Buy Now"; the reward
is WebShop's (:mod:`envs.web_shop.reward`). At most 10 turns (AgentBench's round limit): after the 10th turn
without a purchase the episode is truncated with reward 0. A reply that does not parse, or names an action
the page does not offer, changes nothing: the same observation comes back with ``info["action_valid"] =
False`` and the reason in ``info["last_action_error"]``; it still uses a turn, as a round does in AgentBench.

Tasks come from the seeded goal generator over a generated catalogue (default 1,000 products; ids
``shop-<split>-<index:04d>``), from a task file of goal records (``tasks_file``), or from WebShop's own
product file (``products_file``, an ``items_shuffle*.json``, with its ``attributes_file``, an
``items_ins_v2*.json``, when given; goals are then generated from the split's seeds over it, or read from
``goals_file``, WebShop's human goals ``items_human_ins.json``, ids ``shop-human-<index:04d>``: the command
line's ``--products``, ``--attributes`` and ``--goals``). ``data="webshop-1k"`` plays WebShop's real 1,000 products and its 13 human goals (ids
``shop-webshop-1k-<index:04d>``), read from the data cache (:mod:`envs.web_shop.real_data`).

Example::

    from envs.web_shop.env import WebShopEnv

    env = WebShopEnv(split="test", prompt_variant="react")
    obs, info = env.reset(options={"task_id": "shop-test-0000"})
    while True:
        obs, reward, terminated, truncated, info = env.step(env.oracle_reply())
        if terminated or truncated:
            break
    print(info["score"], info["success"])   # 1.0 True
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any, ClassVar

from rapidfuzz import fuzz

from envs.core import AGENTBENCH, Message, TaskError, TextEnv, get_split
from envs.web_shop.catalog import Catalog, generate_catalog, load_webshop
from envs.web_shop.goals import PRICE_CLAUSE, Goal, goal_for_seed, load_goals
from envs.web_shop.pages import BACK, BUY, ITEM, NEXT, PREV, RESULTS, SEARCH, ShopSession
from envs.web_shop.protocol import (
    SYNTAXES,
    VARIANTS,
    Action,
    InvalidAction,
    parse_reply,
    prompt_messages,
    protocol_data,
    render_action,
    render_observation,
)
from envs.web_shop.real_data import load_real_data
from envs.web_shop.reward import score_purchase
from envs.web_shop.search import get_index

#: Thoughts the oracle picks from (by a hash of task and turn), so that transcripts are not all alike.
ORACLE_THOUGHTS: dict[str, tuple[str, ...]] = {
    "search": (
        "I think I should search for the product with the words of the instruction.",
        "I will use the search bar to look for it.",
        "Let me search for the brand and the product.",
    ),
    "open": (
        "I think {asin} matches the instruction, so I open it.",
        "{asin} looks like the product I need.",
        "The result {asin} fits the brand, the features and the price.",
    ),
    "next": (
        "The product is not on this page; I go to the next one.",
        "None of these match well, so I look at the next page.",
    ),
    "prev": (
        "This is not the product I want; I go back.",
        "I should return to the previous page.",
    ),
    "back": ("The results do not contain the product; I search again.",),
    "option": (
        "I think I should select '{value}' as the instruction asks.",
        "The instruction wants '{value}', so I click it.",
        "Next I choose the option '{value}'.",
    ),
    "buy": (
        "I think I should click on 'Buy Now' to purchase the product.",
        "All requirements are met, so I buy it.",
        "Everything matches; time to buy.",
    ),
}


class WebShopEnv(TextEnv):
    """The web-shopping environment (see the module docstring)."""

    env_name: ClassVar[str] = "shop"
    prompt_variants: ClassVar[tuple[str, ...]] = VARIANTS
    syntaxes = SYNTAXES
    # "Thought:\nI think ...\n\nAction:\nclick[...]" is a few short lines; "Observation:" would start the
    # model's own invention of the next page.
    max_new_tokens: ClassVar[int] = 96
    stop_sequences: ClassVar[tuple[str, ...]] = ("\nObservation:",)

    def __init__(
        self,
        split: str = "test",
        tasks_file: str | Path | None = None,
        products_file: str | Path | None = None,
        prompt_variant: str = AGENTBENCH,
        limit: int | None = None,
        num_products: int = 1000,
        render_mode: str | None = None,
        data: str | None = None,
        attributes_file: str | Path | None = None,
        goals_file: str | Path | None = None,
    ):
        super().__init__(prompt_variant=prompt_variant, render_mode=render_mode)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        self.split = split
        self.round_limit = self.turn_limit() or protocol_data().round_limit
        if (attributes_file is not None or goals_file is not None) and products_file is None:
            raise ValueError("attributes and goals files describe a products file: give products_file too")
        if goals_file is not None and tasks_file is not None:
            raise ValueError("give either a goals file (WebShop's human goals) or a tasks file, not both")
        real = None
        if data is not None:
            if products_file is not None:
                raise ValueError("give either data (a real data set) or products_file, not both")
            real = load_real_data(data)
            self.catalog: Catalog = real.catalog
        elif products_file is not None:
            shop_data = load_webshop(products_file, attributes_file, goals_file)
            self.catalog = shop_data.catalog
            if goals_file is not None:
                real, data = shop_data, "human"
        else:
            self.catalog = generate_catalog(int(num_products))
        self._index = get_index(self.catalog)
        self._file_goals: dict[str, Goal] | None = None
        if tasks_file is not None:
            loaded = load_goals(tasks_file, self.catalog)[:limit]
            self._file_goals = {
                (given or f"shop-{split}-{i:04d}"): goal for i, (given, goal) in enumerate(loaded)
            }
            if len(self._file_goals) != len(loaded):
                raise TaskError(f"tasks file {str(tasks_file)!r} repeats a task id")
            self._ids = list(self._file_goals)
        elif real is not None:
            self._file_goals = {f"shop-{data}-{i:04d}": goal for i, goal in enumerate(real.goals[:limit])}
            self._ids = list(self._file_goals)
        else:
            self._seeds = get_split(split).seeds(limit)
            self._ids = [f"shop-{split}-{i:04d}" for i in range(len(self._seeds))]
        self._goal_cache: dict[str, Goal] = {}
        self._session: ShopSession | None = None
        self._goal: Goal | None = None
        self._task_id = ""
        self._turn = 0
        self._done = False
        self._obs = ""

    # -------------------------------------------------------------------------------------------- contract

    def prompt_messages(self) -> list[Message]:
        return prompt_messages(self.prompt_variant)

    def task_ids(self) -> list[str]:
        return list(self._ids)

    def goal(self, task_id: str) -> Goal:
        """The goal of ``task_id`` (privileged: for the oracle, tests and analysis, never a model's input)."""
        if self._file_goals is not None:
            if task_id not in self._file_goals:
                raise ValueError(f"unknown task_id {task_id!r} for env 'shop'")
            return self._file_goals[task_id]
        goal = self._goal_cache.get(task_id)
        if goal is None:
            prefix = f"shop-{self.split}-"
            index = (
                int(task_id[len(prefix) :])
                if task_id.startswith(prefix) and task_id[len(prefix) :].isdigit()
                else -1
            )
            if not 0 <= index < len(self._seeds):
                raise ValueError(f"unknown task_id {task_id!r} for env 'shop' (split {self.split!r})")
            goal = goal_for_seed(self.catalog, self._seeds[index])
            self._goal_cache[task_id] = goal
        return goal

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self._task_id = self.pick_task_id(options)
        self._goal = self.goal(self._task_id)
        self._session = ShopSession(self.catalog, self._index, self._goal.instruction)
        self._turn = 0
        self._done = False
        self._obs = self._observe()
        return self._obs, {"task_id": self._task_id, "page": SEARCH}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._session is None or self._goal is None:
            raise RuntimeError("call reset() before step()")
        session = self._session
        if self._done:
            info = self._info(False, "the episode has ended; call reset() to start a new one")
            return self._obs, 0.0, True, False, info
        self._turn += 1
        error = self._apply(action)
        terminated = session.purchase is not None
        truncated = not terminated and self._turn >= self.round_limit
        self._obs = self._observe()
        info = self._info(not error, error)
        reward = 0.0
        if terminated:
            reward = self._finish(info)
        elif truncated:
            self._done = True
            info.update(
                score=0.0,
                success=False,
                r_type=0.0,
                purchased="",
                chosen_options={},
                attr_matched=0,
                attr_total=len(self._goal.attributes),
                option_matched=0,
                option_total=len(self._goal.options),
                price_ok=False,
            )
        return self._obs, reward, terminated, truncated, info

    def render(self) -> str | None:
        return self._obs if self.render_mode == "ansi" else None

    # -------------------------------------------------------------------------------------------- internals

    def _apply(self, reply: str) -> str:
        assert self._session is not None
        if not isinstance(reply, str):
            return f"the action must be a string, got {type(reply).__name__}"
        try:
            action = parse_reply(reply, self.prompt_variant)
        except InvalidAction as err:
            return str(err)
        if action.kind == "search":
            return self._session.search(action.argument)
        return self._session.click(action.argument)

    def _observe(self) -> str:
        assert self._session is not None
        page = self._session.view()
        return render_observation(page.text, page.has_search_bar, page.clickables)

    def _info(self, valid: bool, error: str) -> dict[str, Any]:
        assert self._session is not None
        return {
            "task_id": self._task_id,
            "action_valid": valid,
            "last_action_error": error,
            "turn": self._turn,
            "page": self._session.kind,
        }

    def _finish(self, info: dict[str, Any]) -> float:
        assert self._session is not None and self._session.purchase is not None and self._goal is not None
        self._done = True
        asin, chosen = self._session.purchase
        result = score_purchase(self.catalog.get(asin), chosen, self._goal)
        info.update(
            score=result.reward,
            success=result.reward == 1.0,
            r_type=result.r_type,
            purchased=asin,
            chosen_options=dict(chosen),
            attr_matched=result.attr_matched,
            attr_total=result.attr_total,
            option_matched=result.option_matched,
            option_total=result.option_total,
            price_ok=result.price_ok,
        )
        return result.reward

    # -------------------------------------------------------------------------------------------- oracle

    def oracle_reply(self) -> str:
        if self._session is None or self._goal is None:
            raise RuntimeError("call reset() before oracle_reply()")
        action, mood, fill = self._oracle_action()
        pool = ORACLE_THOUGHTS[mood]
        pick = zlib.crc32(f"{self._task_id}|{self._turn}|{mood}".encode()) % len(pool)
        return render_action(action, pool[pick].format(**fill), self.prompt_variant)

    def _oracle_action(self) -> tuple[Action, str, dict[str, str]]:
        """Search with the instruction's words, open the first product as good as the target, pick, buy."""
        assert self._session is not None and self._goal is not None
        session, goal = self._session, self._goal
        if session.kind == SEARCH:
            # The instruction's own words first (a verbatim span, what a reader of the page can do), then the
            # goal's keywords, then the target's title, until the target is among the results.
            product = self.catalog.get(goal.asin)
            keywords = goal.instruction.split(PRICE_CLAUSE)[0].strip()
            for fallback in (goal.keywords, product.title.replace("]", " ")):
                if goal.asin in self._index.search(keywords) or not fallback:
                    break
                keywords = fallback
            return Action("search", keywords), "search", {}
        if session.kind == RESULTS:
            best = self._oracle_best_on_page()
            if best is not None:
                return Action("click", best), "open", {"asin": best}
            if goal.asin in session.results:
                later = session.results.index(goal.asin) >= session.page_no * 10
                return (Action("click", NEXT), "next", {}) if later else (Action("click", PREV), "prev", {})
            return Action("click", BACK), "back", {}
        if session.kind == ITEM and session.asin is not None and self._full_reward(session.asin):
            product = self.catalog.get(session.asin)
            for group, wanted in goal.options:
                value = _closest_value(product.options, group, wanted)
                if (
                    value is not None
                    and session.selected.get(group or _group_of(product.options, value)) != value
                ):
                    return Action("click", value), "option", {"value": value}
            return Action("click", BUY), "buy", {}
        return Action("click", PREV), "prev", {}

    def _oracle_best_on_page(self) -> str | None:
        """The first product of the results page that scores as much as the target (the target itself, at
        worst). Preferring the earliest such product, not always the hidden target, makes the oracle's choice
        follow from what the page shows (mostly the top result), which a student can learn to imitate."""
        assert self._session is not None and self._goal is not None
        for asin in self._session.page_asins():
            if asin == self._goal.asin or self._full_reward(asin):
                return asin
        return None

    def _full_reward(self, asin: str) -> bool:
        """Whether buying ``asin`` with its best-matching options scores as much as buying the target."""
        assert self._goal is not None
        goal = self._goal
        if asin == goal.asin:
            return True
        product = self.catalog.get(asin)
        chosen = [v for g, w in goal.options if (v := _closest_value(product.options, g, w)) is not None]
        target = self.catalog.get(goal.asin)
        wanted = [v for g, w in goal.options if (v := _closest_value(target.options, g, w)) is not None]
        return score_purchase(product, chosen, goal).reward >= score_purchase(target, wanted, goal).reward


def _closest_value(options: tuple[tuple[str, tuple[str, ...]], ...], group: str, wanted: str) -> str | None:
    """The product's option value that best matches a goal option (exact, else best token-set ratio)."""
    candidates = [v for g, values in options if not group or g == group for v in values]
    if not candidates:
        return None
    for value in candidates:
        if value.casefold() == wanted.casefold():
            return value
    best = max(candidates, key=lambda v: fuzz.token_set_ratio(v.lower(), wanted.lower()))
    return best if fuzz.token_set_ratio(best.lower(), wanted.lower()) > 85 else None


def _group_of(options: tuple[tuple[str, tuple[str, ...]], ...], value: str) -> str:
    return next(g for g, values in options if value in values)
