"""WebShop's purchase reward, restated for promptless (no spaCy).

    R = r_type * (N_att + N_opt + [price <= price_upper]) / (|U_att| + |U_opt| + 1)

- ``N_att``: goal attributes matched by the bought product. A goal attribute matches when
  ``rapidfuzz.fuzz.token_set_ratio(goal_attr, product_attr) > 85`` for one of the product's attributes, or
  when it occurs (lower-cased) in the product's title, feature bullets or description.
- ``N_opt``: goal option values matched by the chosen options, by the same ratio after colour normalization: a
  value holding a colour word (whole word, longest first, see :data:`envs.web_shop.vocab.COLORS`) becomes that
  word, so "forest green" and "green" agree. (WebShop matches colour words as substrings, which turns
  "standard" into "tan"; whole words avoid that.)
- ``r_type`` compares the bought product with the goal's target: ``query_match`` (same product query),
  ``category_match`` (at least two breadcrumb levels in common) and ``title_score``, the share of the target
  title's nouns found among the bought title's nouns (the target's nouns counted with repeats, as WebShop
  divides by the length of its list of noun tokens). Then r_type = 1 when any of the three holds
  (title_score > 0.2 for the last), else 0.5; it drops to 0.1 when title_score < 0.1 and to 0 when no noun is
  shared.

Noun extraction (WebShop uses spaCy's NOUN/PROPN tags): a title's nouns are its lower-cased alphanumeric
words (apostrophes kept inside words) of two or more characters that are not numbers and not in the lists of
:mod:`envs.web_shop.vocab`: stop words, unit words (oz, pack, count, inch...), colour words and descriptor
words (adjectives and participles, including those of the attribute phrases: "long", "lasting", "free").
What is left is brand and product-noun words ("sleeve" of "long sleeve" stays), the tokens spaCy tags as
nouns or proper nouns in such titles. A title with no nouns gives title_score 0.2, as in WebShop.

The weights are WebShop's (its ``get_reward(..., verbose=True)``): with n = |U_att| + |U_opt| + 1, attributes
weigh |U_att| / n, options |U_opt| / n and price 1 / n, and R = r_type * (w_att * r_att + w_option * r_option
+ w_price * r_price), which is the formula above; :class:`RewardResult` reports each part.

Example::

    from envs.web_shop.reward import score_purchase

    result = score_purchase(product, {"size": "3.4 fl oz"}, goal)
    result.reward, result.r_type, result.attr_matched
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from envs.web_shop.catalog import Product
from envs.web_shop.goals import Goal
from envs.web_shop.vocab import COLORS, DESCRIPTOR_WORDS, STOP_WORDS, UNIT_WORDS

MATCH_RATIO = 85.0
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_COLOR_RES = tuple(
    (color, re.compile(rf"\b{re.escape(color)}\b")) for color in sorted(COLORS, key=len, reverse=True)
)


@dataclass(frozen=True)
class RewardResult:
    """The reward and its parts."""

    reward: float
    r_type: float
    title_score: float
    attr_matched: int
    attr_total: int
    option_matched: int
    option_total: int
    price_ok: bool

    @property
    def _n(self) -> int:
        return self.attr_total + self.option_total + 1

    @property
    def w_att(self) -> float:
        """WebShop's weight of the attributes: |U_att| / (|U_att| + |U_opt| + 1)."""
        return self.attr_total / self._n

    @property
    def w_option(self) -> float:
        """WebShop's weight of the options: |U_opt| / (|U_att| + |U_opt| + 1)."""
        return self.option_total / self._n

    @property
    def w_price(self) -> float:
        """WebShop's weight of the price: 1 / (|U_att| + |U_opt| + 1)."""
        return 1 / self._n

    @property
    def r_att(self) -> float | None:
        """Share of the goal's attributes matched; None for a goal without attributes."""
        return self.attr_matched / self.attr_total if self.attr_total else None

    @property
    def r_option(self) -> float | None:
        """Share of the goal's options matched; None for a goal without options (as WebShop)."""
        return self.option_matched / self.option_total if self.option_total else None


_NON_NOUNS: frozenset[str] = STOP_WORDS | UNIT_WORDS | DESCRIPTOR_WORDS | frozenset(COLORS)


def title_noun_tokens(title: str) -> list[str]:
    """The noun tokens of a title in order, repeats kept, by the rule in the module docstring."""
    skip = _NON_NOUNS
    return [
        w
        for w in _WORD_RE.findall(title.lower())
        if len(w) >= 2 and not w.replace("'", "").isdigit() and w not in skip
    ]


def title_nouns(title: str) -> set[str]:
    """The nouns of a title, by the rule in the module docstring."""
    return set(title_noun_tokens(title))


def normalize_color(value: str) -> str:
    """The colour word a value holds (whole word, longest first), else the value itself, lower-cased."""
    text = value.lower().strip()
    for color, pattern in _COLOR_RES:
        if pattern.search(text):
            return color
    return text


def type_reward(product: Product, goal: Goal) -> tuple[float, float]:
    """``(r_type, title_score)`` of buying ``product`` for ``goal``."""
    query_match = bool(goal.query) and product.query == goal.query
    bought_levels = {p.strip() for p in product.product_category.split("›") if p.strip()}
    goal_levels = {p.strip() for p in goal.category.split("›") if p.strip()}
    category_match = len(bought_levels & goal_levels) >= 2
    wanted = title_noun_tokens(goal.title)
    title_score = len(set(wanted) & title_nouns(product.title)) / len(wanted) if wanted else 0.2
    r_type = 1.0 if (query_match or category_match or title_score > 0.2) else 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return r_type, title_score


def attribute_matches(product: Product, wanted: Iterable[str]) -> int:
    """How many wanted attributes the product has (fuzzy over its attributes, else substring of its text)."""
    text = " ".join((product.title, " ".join(product.bullets), product.description)).lower()
    count = 0
    for attr in wanted:
        attr = attr.lower()
        if (
            any(fuzz.token_set_ratio(attr, have.lower()) > MATCH_RATIO for have in product.attributes)
            or attr in text
        ):
            count += 1
    return count


def option_matches(chosen: Iterable[str], wanted: Iterable[str]) -> int:
    """How many wanted option values one of the chosen values matches (colour-normalized token-set ratio)."""
    chosen_norm = [normalize_color(v) for v in chosen]
    return sum(
        1
        for w in wanted
        if any(fuzz.token_set_ratio(normalize_color(w), c) > MATCH_RATIO for c in chosen_norm)
    )


def score_purchase(
    product: Product, chosen_options: Mapping[str, str] | Iterable[str], goal: Goal
) -> RewardResult:
    """The reward of buying ``product`` with ``chosen_options`` (group -> value, or just the values)."""
    chosen = list(chosen_options.values()) if isinstance(chosen_options, Mapping) else list(chosen_options)
    r_type, title_score = type_reward(product, goal)
    n_att = attribute_matches(product, goal.attributes)
    n_opt = option_matches(chosen, goal.option_values())
    price_ok = product.price <= goal.price_upper
    total = len(goal.attributes) + len(goal.options) + 1
    reward = r_type * (n_att + n_opt + int(price_ok)) / total
    return RewardResult(
        reward=reward,
        r_type=r_type,
        title_score=title_score,
        attr_matched=n_att,
        attr_total=len(goal.attributes),
        option_matched=n_opt,
        option_total=len(goal.options),
        price_ok=price_ok,
    )
