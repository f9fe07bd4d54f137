"""Shopping goals in WebShop's style: an instruction written from one target product, and what is checked.

A :class:`Goal` names its target ASIN and holds the wanted attributes, the wanted option values, the price
bound and the target's query, category breadcrumb and title (the reward's type check reads these, as
WebShop's goal does). Its instruction reads like WebShop's::

    i need a long lasting eau de toilette spray from lumiere vale in size 3.4 fl oz, and price lower than
    70.00 dollars

The bound follows WebShop's rule: one of the first four multiples of 10 above the target's price. ``keywords``
are the instruction's brand, attribute and noun words: a search made of them finds the target (the oracle uses
them). Generated goals come from the split's seeds (``envs.core.get_split``); goal ``seed`` targets one of the
first 1,000 products of the catalogue, so the fixed test split is the same for any catalogue of 1,000 or more
generated products. :data:`TEST_SPLIT_SHA256` pins it: a change of generator that alters it must bump the
env's version (``promptless/WebShop-v0``).

Example::

    from envs.web_shop.catalog import generate_catalog
    from envs.web_shop.goals import split_goals

    goals = split_goals(generate_catalog(1000), "test")   # 100 goals
    print(goals[0].instruction, goals[0].asin)
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from envs.core import TaskError, get_split
from envs.web_shop.vocab import INSTRUCTION_OPENERS, OPTION_PHRASES

if TYPE_CHECKING:
    from envs.web_shop.catalog import Catalog, Product

#: Goals target one of the catalogue's first ``GOAL_POOL`` products (see the module docstring).
GOAL_POOL = 1000
#: SHA-256 of the 100 test goals over the default catalogue (1,000 products, seed 0): ``goals_fingerprint``.
TEST_SPLIT_SHA256 = "9f1f28eed741b9f1f82fe2c322c67a38feb70492ecd78799fa8c023748f99423"


#: How every instruction states its price bound; the words before it are the shopper's request.
PRICE_CLAUSE = ", and price lower than "


@dataclass(frozen=True)
class Goal:
    """One shopping task. ``options`` are ``(group, value)`` pairs; the group is "" when none was given."""

    asin: str
    instruction: str
    attributes: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    price_upper: float
    query: str = ""
    category: str = ""  # the target's category breadcrumb (WebShop's goal["product_category"])
    title: str = ""  # the target's title (WebShop's goal["name"]), for the reward's noun overlap
    keywords: str = ""

    def option_values(self) -> list[str]:
        return [value for _, value in self.options]

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["attributes"] = list(self.attributes)
        record["options"] = [list(pair) for pair in self.options]
        return record


def price_bound(price: float, rnd: random.Random) -> float:
    """WebShop's rule: one of the first four multiples of 10 strictly above ``price``."""
    first = int(price // 10) + 1
    return float(10 * rnd.randrange(first, first + 4))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def phrase_options(options: Sequence[tuple[str, str]]) -> str:
    """The instruction's words for the wanted options: "in size 3.4 fl oz and with a vanilla scent"."""
    parts = [
        OPTION_PHRASES.get(group, "with {group} {value}").format(group=group, value=value)
        for group, value in options
    ]
    return " and ".join(parts)


def make_goal(product: Product, rnd: random.Random) -> Goal:
    """A goal for ``product``: some of its attributes, one value per chosen option group, a price bound."""
    n_attrs = min(len(product.attributes), 1 + (rnd.random() < 0.5))
    attrs = tuple(rnd.sample(list(product.attributes), n_attrs))
    options = tuple((group, rnd.choice(values)) for group, values in product.options if rnd.random() < 0.85)
    bound = price_bound(product.price, rnd)
    noun = product.noun or product.query or "product"
    described = " and ".join(attrs)
    head = f"{described} {noun}" if described else noun
    text = f"{rnd.choice(INSTRUCTION_OPENERS)} {_article(head)} {head}"
    if product.brand:
        text += f" {rnd.choice(('from', 'by'))} {product.brand.lower()}"
    if options:
        text += f" {phrase_options(options)}"
    text += f"{PRICE_CLAUSE}{bound:.2f} dollars"
    keywords = " ".join(w for w in (product.brand.lower(), " ".join(attrs), noun) if w)
    return Goal(
        asin=product.asin,
        instruction=text,
        attributes=attrs,
        options=options,
        price_upper=bound,
        query=product.query,
        category=product.product_category,
        title=product.title,
        keywords=keywords,
    )


def _goal_rng(seed: int) -> random.Random:
    return random.Random(int(np.random.SeedSequence([int(seed), 0x60A1]).generate_state(1)[0]))


def goal_for_seed(catalog: Catalog, seed: int) -> Goal:
    """The generated goal of one split seed (deterministic for a given catalogue)."""
    rnd = _goal_rng(seed)
    target = catalog.products[rnd.randrange(min(len(catalog), GOAL_POOL))]
    return make_goal(target, rnd)


def split_goals(catalog: Catalog, split: str, limit: int | None = None) -> list[Goal]:
    """The generated goals of ``split`` (train, dev or test), at most ``limit`` of them, in seed order."""
    return [goal_for_seed(catalog, seed) for seed in get_split(split).seeds(limit)]


def goals_fingerprint(goals: Sequence[Goal]) -> str:
    """SHA-256 over the goals' canonical JSON: equal fingerprints mean identical tasks."""
    blob = json.dumps([g.to_dict() for g in goals], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------- goal files


def _str_list(value: Any, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TaskError(f"{where}: field {name!r} must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _option_pairs(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """Options as ``{group: value}``, ``[value, ...]`` or ``[[group, value], ...]``."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple((str(k).strip().lower(), str(v).strip()) for k, v in value.items())
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TaskError(f"{where}: field 'options' must be an object or a list")
    pairs = []
    for entry in value:
        if isinstance(entry, str):
            pairs.append(("", entry.strip()))
        elif isinstance(entry, Sequence) and len(entry) == 2:
            pairs.append((str(entry[0]).strip().lower(), str(entry[1]).strip()))
        else:
            raise TaskError(f"{where}: option {entry!r} must be a value or a [group, value] pair")
    return tuple(pairs)


def goal_from_record(record: Any, catalog: Catalog, where: str) -> Goal:
    """A goal from a task-file record; the target's query, category and title come from the catalogue."""
    if not isinstance(record, Mapping):
        raise TaskError(f"{where}: a goal must be a JSON object, got {type(record).__name__}")
    for name in ("asin", "instruction", "attributes", "options", "price_upper"):
        if name not in record:
            raise TaskError(f"{where}: missing field {name!r}")
    asin = str(record["asin"])
    if asin not in catalog:
        raise TaskError(f"{where}: target asin {asin!r} is not in catalog {catalog.key!r}")
    try:
        bound = float(record["price_upper"])
    except (TypeError, ValueError):
        raise TaskError(
            f"{where}: field 'price_upper' must be a number, got {record['price_upper']!r}"
        ) from None
    instruction = str(record["instruction"]).strip()
    if not instruction:
        raise TaskError(f"{where}: field 'instruction' is empty")
    product = catalog.get(asin)
    return Goal(
        asin=asin,
        instruction=instruction,
        attributes=_str_list(record["attributes"], where, "attributes"),
        options=_option_pairs(record["options"], where),
        price_upper=bound,
        query=str(record.get("query") or product.query),
        category=str(record.get("category") or product.product_category),
        title=str(record.get("title") or product.title),
        keywords=str(record.get("keywords") or instruction.split(PRICE_CLAUSE)[0]),
    )


def load_goals(path: str | Path, catalog: Catalog) -> list[tuple[str | None, Goal]]:
    """Read a task file: a JSON list of goal records (see :func:`goal_from_record`), with optional "id"s."""
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"tasks file {str(path)!r} does not exist")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise TaskError(f"tasks file {str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(records, list):
        raise TaskError(f"tasks file {str(path)!r} must hold a JSON list of goals")
    out = []
    for i, record in enumerate(records):
        goal = goal_from_record(record, catalog, f"tasks file {str(path)!r}, item {i}")
        task_id = record.get("id") if isinstance(record, Mapping) else None
        out.append((str(task_id) if task_id is not None else None, goal))
    return out


#: WebShop's bound for a goal whose product costs too much for two bounds to be drawn (no price clause).
NO_PRICE_BOUND = 1_000_000.0


def webshop_price_upper(price: float, rnd: random.Random) -> float:
    """The bound of a goal from WebShop's files, by WebShop's ``get_human_goals``/``get_synthetic_goals``.

    Of the first four multiples of 10 (up to 990) strictly above ``price``, two distinct ones are drawn and
    the larger is the bound, so it is never the first; with fewer than two, the bound is
    :data:`NO_PRICE_BOUND` and the instruction names no price.
    """
    above = [10.0 * i for i in range(1, 100) if 10.0 * i > price][:4]
    if len(above) < 2:
        return NO_PRICE_BOUND
    return max(rnd.sample(above, 2))


def _webshop_goal(
    product: Product,
    instruction: str,
    attrs: tuple[str, ...],
    options: tuple[tuple[str, str], ...],
    index: int,
) -> Goal:
    bound = webshop_price_upper(product.price, _goal_rng(index))
    text = instruction.strip().strip(".")  # WebShop: instruction.strip('.') + price text
    clause = "" if bound == NO_PRICE_BOUND else f"{PRICE_CLAUSE}{bound:.2f} dollars"
    return Goal(
        asin=product.asin,
        instruction=f"{text}{clause}",
        attributes=attrs,
        options=options,
        price_upper=bound,
        query=product.query,
        category=product.product_category,
        title=product.title,
        keywords=text.lower(),
    )


def goals_from_webshop(catalog: Catalog, attributes: Any, human: Any, source: str) -> tuple[Goal, ...]:
    """Goals from WebShop's files: human goals when given, else the attribute file's synthetic instructions.

    Goals whose ASIN is not in the catalogue are skipped (WebShop's human file covers more products than its
    smaller product files), and so are human goals without ``instruction_attributes``, as WebShop skips them.
    The price bound is drawn per goal index with WebShop's rule (:func:`webshop_price_upper`), from a fixed
    seed; the reward compares it with the product's judged price (a draw within a price range).
    """
    goals: list[Goal] = []
    if human is not None:
        if not isinstance(human, Mapping):
            raise TaskError(f"goals file {source!r} must hold a JSON object keyed by asin")
        for asin, records in human.items():
            if asin not in catalog:
                continue
            for j, record in enumerate(records if isinstance(records, list) else [records]):
                where = f"goals file {source!r}, asin {asin}, goal {j}"
                if not isinstance(record, Mapping) or not record.get("instruction"):
                    raise TaskError(f"{where}: missing field 'instruction'")
                attrs = _str_list(record.get("instruction_attributes"), where, "instruction_attributes")
                if not attrs:
                    continue
                options = _option_pairs(record.get("instruction_options"), where)
                goals.append(
                    _webshop_goal(catalog.get(asin), str(record["instruction"]), attrs, options, len(goals))
                )
        return tuple(goals)
    if attributes is None:
        return ()
    for product in catalog:
        entry = attributes.get(product.asin)
        if not isinstance(entry, Mapping) or not entry.get("instruction"):
            continue
        where = f"attributes file {source!r}, asin {product.asin}"
        attrs = _str_list(entry.get("instruction_attributes"), where, "instruction_attributes")
        rnd = _goal_rng(len(goals) + 7919)  # a stream apart from the price bound's
        options = tuple((group, rnd.choice(values)) for group, values in product.options)
        text = str(entry["instruction"]).strip().rstrip(".")
        if options:
            text += f" {phrase_options(options)}"
        goals.append(_webshop_goal(product, text, attrs, options, len(goals)))
    return tuple(goals)
