"""The shop's products: a seeded generator that scales to 100,000 items, and a loader for WebShop's files.

A :class:`Product` holds what WebShop's pages show and what its reward reads: ASIN, title, category
breadcrumb, search query, price, attributes, option groups, description, feature bullets, rating and reviews.

The generator makes products in *families*: two to five items of one brand and one product noun that differ
in attributes, size, price and options, so that every goal has near-duplicate distractors. Generation runs in
blocks of 1,000 items, each from its own seed, so a catalogue of ``n`` items is a prefix of every larger one
with the same seed (the test goals, drawn from the first 1,000 items, are the same at 1k or 100k items).
Results are cached per ``(seed, n)``.

Example::

    from envs.web_shop.catalog import generate_catalog, load_webshop

    catalog = generate_catalog(1000, seed=0)
    product = catalog.get(catalog.products[0].asin)
    data = load_webshop("items_shuffle_1000.json", "items_ins_v2_1000.json", "items_human_ins.json")
"""

from __future__ import annotations

import gc
import json
import random
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from envs.core import TaskError
from envs.web_shop.vocab import CATEGORIES, Category, Kind

BLOCK_SIZE = 1000
ASIN_ALPHABET = string.ascii_uppercase + string.digits
ACRONYMS = frozenset({"usb", "hdmi", "bpa", "gmo", "usda", "uv", "rc", "d3", "xl"})
#: Above this token-set ratio WebShop's reward treats two option values as the same; values shown together on
#: one item page must stay below it, or an agent could pick the wrong one and still be paid.
OPTION_CLASH_RATIO = 85.0

REVIEW_LINES: tuple[tuple[int, str], ...] = (
    (5, "Exactly as described and arrived quickly."),
    (5, "Great value for the money, would buy again."),
    (4, "Does the job well, packaging could be better."),
    (4, "Good quality overall, happy with this purchase."),
    (3, "It is okay, a bit smaller than I expected."),
    (2, "Not what I hoped for, returned it."),
    (5, "My second order of this, still very happy."),
    (3, "Average product, nothing special."),
)


@dataclass(frozen=True)
class Review:
    """One customer review: a 1-5 star score and its text."""

    score: int
    text: str


@dataclass(frozen=True)
class Product:
    """One product as the shop shows it and as the reward reads it.

    ``options`` are ``(group, values)`` pairs in page order; ``price`` is what the reward compares with the
    goal's bound; ``noun`` is the product noun a goal names it by; ``rating`` is ``None`` when unknown (the
    page then shows "N.A." as WebShop does).
    """

    asin: str
    title: str
    category: str  # short department key, e.g. "beauty"
    product_category: str  # breadcrumb, levels joined by " › "
    query: str
    brand: str
    noun: str
    price: float
    attributes: tuple[str, ...] = ()
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()
    description: str = ""
    bullets: tuple[str, ...] = ()
    rating: float | None = None
    reviews: tuple[Review, ...] = ()
    price_tag: str = ""  # the price as the pages show it ("$19.99 to $27.99"); "" shows ``price``

    def option_values(self) -> list[str]:
        """All option values of the product, group by group, in page order."""
        return [value for _, values in self.options for value in values]

    def search_text(self) -> str:
        """The text the search engine indexes: title, category, attributes and feature bullets."""
        return " ".join(
            (self.title, self.product_category, self.query, " ".join(self.attributes), *self.bullets)
        )


@dataclass(frozen=True)
class Catalog:
    """An ordered, immutable set of products with lookup by ASIN; ``key`` names it for caches."""

    key: str
    products: tuple[Product, ...]
    _by_asin: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_asin: dict[str, int] = {}
        for i, product in enumerate(self.products):
            if product.asin in by_asin:
                raise ValueError(f"catalog {self.key!r}: duplicate asin {product.asin!r}")
            by_asin[product.asin] = i
        object.__setattr__(self, "_by_asin", by_asin)

    def __len__(self) -> int:
        return len(self.products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products)

    def __contains__(self, asin: object) -> bool:
        return asin in self._by_asin

    def get(self, asin: str) -> Product:
        """The product with this ASIN; a clear ``KeyError`` when it is not in the catalogue."""
        try:
            return self.products[self._by_asin[asin]]
        except KeyError:
            raise KeyError(f"asin {asin!r} is not in catalog {self.key!r} ({len(self)} products)") from None


@dataclass(frozen=True)
class ShopData:
    """A catalogue and the goals that came with it (empty when the files held none)."""

    catalog: Catalog
    goals: tuple[Any, ...]  # tuple[Goal, ...]; typed loosely to keep goals.py free of an import cycle


# ---------------------------------------------------------------------------------------------- generator


def title_case(text: str) -> str:
    """Capitalize each word's first letter (acronyms in full caps), leave the rest: 'usb c' -> 'USB C'."""
    words = []
    for word in text.split(" "):
        if word.lower() in ACRONYMS:
            words.append(word.upper())
        else:
            words.append(word[:1].upper() + word[1:])
    return " ".join(words)


@cache
def _clash_table(values: tuple[str, ...]) -> tuple[tuple[bool, ...], ...]:
    """Pairwise "would the reward confuse these two values" for one pool of values; computed once per pool."""
    return tuple(
        tuple(i != j and fuzz.token_set_ratio(a, b) > OPTION_CLASH_RATIO for j, b in enumerate(values))
        for i, a in enumerate(values)
    )


@cache
def _category_values(cat: Category) -> tuple[tuple[tuple[bool, ...], ...], dict[str, int]]:
    all_values = tuple(v for _, pool in cat.options for v in pool)
    return _clash_table(all_values), {v: i for i, v in enumerate(all_values)}


def _draw_options(rnd: random.Random, cat: Category) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """One or two option groups with 2-5 values each, no two values on the page confusable by the reward."""
    n_groups = 1 if rnd.random() < 0.45 else 2
    group_ids = sorted(rnd.sample(range(len(cat.options)), n_groups))
    clash, index_of = _category_values(cat)
    taken: list[int] = []
    groups = []
    for gid in group_ids:
        name, pool = cat.options[gid]
        want = rnd.randint(2, min(5, len(pool)))
        picked = rnd.sample(range(len(pool)), len(pool))  # candidates in random order
        chosen: list[int] = []
        for j in picked:
            vid = index_of[pool[j]]
            if any(clash[vid][t] for t in taken):
                continue
            chosen.append(j)
            taken.append(vid)
            if len(chosen) == want:
                break
        if len(chosen) >= 2:
            groups.append((name, tuple(pool[j] for j in sorted(chosen))))  # pool order reads naturally
        else:
            for j in chosen:
                taken.remove(index_of[pool[j]])
    return tuple(groups)


def _price(rnd: random.Random, base: float) -> float:
    cents = rnd.choice((0.99, 0.49, 0.95, 0.0, 0.79))
    return round(max(1.0, float(int(base * rnd.uniform(0.7, 1.4)))) + cents, 2)


def _make_product(
    rnd: random.Random, asin: str, cat: Category, kind: Kind, brand: str, core: list[str], base_price: float
) -> Product:
    attrs = list(core)
    if rnd.random() < 0.5:  # a sibling swaps one core attribute: the near-duplicate that a goal rules out
        attrs[rnd.randrange(len(attrs))] = rnd.choice([a for a in cat.attributes if a not in attrs])
    if rnd.random() < 0.6:
        attrs.append(rnd.choice([a for a in cat.attributes if a not in attrs]))
    rnd.shuffle(attrs)
    spec = rnd.choice(kind.specs)
    in_title = attrs[: 1 + (rnd.random() < 0.3)]
    title = f"{brand} {title_case(' '.join(in_title))} {title_case(kind.noun)}, {spec}"
    blurbs = rnd.sample(cat.blurbs, 2)
    description = (
        f"The {brand} {kind.noun} ({spec}). {blurbs[0]} "
        f"Highlights: {', '.join(attrs[:-1])} and {attrs[-1]}. {blurbs[1]}"
    )
    attr_blurbs = rnd.choices(cat.blurbs, k=len(attrs))
    bullets = (
        *(f"{title_case(a)}: {b}" for a, b in zip(attrs, attr_blurbs, strict=True)),
        f"What you get: one {kind.noun}, {spec}.",
    )
    reviews = tuple(Review(*line) for line in rnd.sample(REVIEW_LINES, rnd.randint(0, 3)))
    return Product(
        asin=asin,
        title=title,
        category=cat.key,
        product_category=f"{cat.top} › {kind.path}",
        query=kind.query,
        brand=brand,
        noun=kind.noun,
        price=_price(rnd, base_price),
        attributes=tuple(attrs),
        options=_draw_options(rnd, cat),
        description=description,
        bullets=bullets,
        rating=round(rnd.uniform(3.0, 5.0), 1),
        reviews=reviews,
    )


def _block_seed(seed: int, block: int) -> int:
    # SeedSequence mixes (seed, block) into independent streams; Python's Random is then fast per draw.
    return int(np.random.SeedSequence([int(seed), int(block), 0x5B09]).generate_state(1)[0])


def _generate_block(seed: int, block: int, taken: set[str]) -> list[Product]:
    rnd = random.Random(_block_seed(seed, block))
    products: list[Product] = []
    while len(products) < BLOCK_SIZE:
        cat = rnd.choice(CATEGORIES)
        kind = rnd.choice(cat.kinds)
        brand = rnd.choice(cat.brands)
        core = rnd.sample(cat.attributes, 2)
        base_price = rnd.uniform(kind.price_lo, kind.price_hi)
        for _ in range(min(rnd.randint(2, 5), BLOCK_SIZE - len(products))):
            asin = "B0" + "".join(rnd.choices(ASIN_ALPHABET, k=8))
            while asin in taken:
                asin = "B0" + "".join(rnd.choices(ASIN_ALPHABET, k=8))
            taken.add(asin)
            products.append(_make_product(rnd, asin, cat, kind, brand, core, base_price))
    return products


@lru_cache(maxsize=8)
def generate_catalog(num_products: int = 1000, seed: int = 0) -> Catalog:
    """A catalogue of ``num_products`` generated products (cached; a prefix of any larger one, same seed)."""
    if num_products < 1:
        raise ValueError(f"num_products must be at least 1, got {num_products}")
    products: list[Product] = []
    taken: set[str] = set()
    # The collector would rescan the growing list of immutable products again and again; pausing it makes
    # 100k products several times faster and changes nothing else.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for block in range((num_products + BLOCK_SIZE - 1) // BLOCK_SIZE):
            products.extend(_generate_block(seed, block, taken))
    finally:
        if was_enabled:
            gc.enable()
    return Catalog(key=f"generated-seed{seed}-n{num_products}", products=tuple(products[:num_products]))


# ---------------------------------------------------------------------------------------------- WebShop files

_PRICE_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
#: WebShop's price for a product whose ``pricing`` is missing or empty (``load_products``).
DEFAULT_PRICE = 100.0


def _read_json(path: str | Path, what: str) -> Any:
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"{what} file {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise TaskError(f"{what} file {str(path)!r} is not valid JSON: {err}") from None
    except UnicodeDecodeError:
        raise TaskError(f"{what} file {str(path)!r} is not UTF-8 text") from None


def parse_price(value: Any, where: str) -> float:
    """WebShop's ``pricing``: a number, a list of numbers or a string like "$12.99" or "$10.00 - $20.00".

    A range counts as its lower bound here; :func:`webshop_pricing` gives WebShop's own reading.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Sequence) and not isinstance(value, str) and value:
        return parse_price(value[0], where)
    if isinstance(value, str):
        found = _PRICE_RE.findall(value)
        if found:
            return float(found[0].replace(",", ""))
    raise TaskError(f"{where}: field 'pricing' has no price in it: {value!r}")


def webshop_pricing(value: Any, asin: str, where: str) -> tuple[float, str]:
    """``(judged price, shown price tag)`` of a WebShop ``pricing`` field, as WebShop's ``load_products``.

    Missing or empty: $100.0. Otherwise the numbers of the "$"-separated parts (or of the list), the first two
    kept: one shows as "$12.99", two as "$10.0 to $38.5" (Python's float text, as WebShop formats it). The
    reward's price of a range is a uniform draw from it (WebShop's ``generate_product_prices``); WebShop draws
    from its process's random state, here from a seed of the ASIN, so that a product's price is the same in
    every run and on every machine.
    """
    if value is None or value == "" or value == []:
        return DEFAULT_PRICE, f"${DEFAULT_PRICE}"
    if isinstance(value, str):
        numbers = [parse_price(part, where) for part in value.split("$")[1:] if _PRICE_RE.search(part)]
    elif isinstance(value, Sequence):
        numbers = [parse_price(v, where) for v in value]
    else:
        numbers = [parse_price(value, where)]
    if not numbers:
        raise TaskError(f"{where}: field 'pricing' has no price in it: {value!r}")
    if len(numbers) == 1:
        return numbers[0], f"${numbers[0]}"
    low, high = numbers[:2]
    return random.Random(f"webshop-price {asin}").uniform(low, high), f"${low} to ${high}"


def _text_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(line.strip() for line in value.splitlines() if line.strip())
    return tuple(str(v).strip() for v in value if str(v).strip())


def _options(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not value:
        return ()
    if not isinstance(value, Mapping):
        raise TaskError(f"{where}: field 'customization_options' must be an object of option groups")
    groups = []
    for group, entries in value.items():
        values = []
        for entry in entries or ():
            text = entry.get("value") if isinstance(entry, Mapping) else entry
            if text is None or not str(text).strip():
                raise TaskError(f"{where}: option group {group!r} has an entry without a 'value'")
            # WebShop's load_products: lower case, "/" shown as " | "
            values.append(str(text).strip().replace("/", " | ").lower())
        if values:
            groups.append((str(group).strip().lower(), tuple(values)))
    return tuple(groups)


def product_from_webshop(
    item: Mapping[str, Any], attributes: Mapping[str, Any] | None, where: str
) -> Product:
    """One product from a WebShop ``items_shuffle*.json`` record (plus its ``items_ins_v2*.json`` entry)."""
    if not isinstance(item, Mapping):
        raise TaskError(f"{where}: a product must be a JSON object, got {type(item).__name__}")
    asin = item.get("asin")
    if not asin or not isinstance(asin, str):
        raise TaskError(f"{where}: missing field 'asin'")
    # An empty name is allowed: WebShop's own 1,000-product set has one such product and serves it.
    title = item.get("name") if "name" in item else item.get("Title")
    if not isinstance(title, str):
        raise TaskError(f"{where} (asin {asin}): missing field 'name' (or 'Title')")
    price, price_tag = webshop_pricing(item.get("pricing", item.get("Price")), asin, f"{where} (asin {asin})")
    extra = (attributes or {}).get(asin) or {}
    attrs = extra.get("attributes", item.get("Attributes")) or ()
    product_category = str(item.get("product_category") or item.get("category") or "")
    query = str(item.get("query") or "").strip().lower()
    return Product(
        asin=asin.strip(),
        title=" ".join(title.split()),
        category=str(item.get("category") or "").strip().lower(),
        product_category=" › ".join(p.strip() for p in product_category.split("›") if p.strip()),
        query=query,
        brand=str(item.get("brand") or "").strip(),
        noun=query or (product_category.split("›")[-1].strip().lower() if product_category else ""),
        price=price,
        attributes=tuple(str(a).strip().lower() for a in attrs if str(a).strip()),
        options=_options(item.get("customization_options"), f"{where} (asin {asin})"),
        description=" ".join(str(item.get("full_description") or item.get("Description") or "").split()),
        bullets=_text_list(item.get("small_description") or item.get("BulletPoints")),
        rating=None,  # WebShop's load_products reads no ratings: every page shows "Rating: N.A."
        reviews=(),
        price_tag=price_tag,
    )


def load_webshop(
    products_json: str | Path, attributes_json: str | Path | None = None, goals_json: str | Path | None = None
) -> ShopData:
    """Load WebShop's own data: products, optional attributes/instructions, optional human goals.

    ``products_json`` is a list of ``items_shuffle*.json`` records (``asin``, ``name`` or ``Title``;
    optional ``pricing``, ``customization_options``, ``product_category``, ``query``, ``category``,
    ``small_description``, ``full_description``). They load as WebShop's ``load_products`` loads them: an
    ASIN "nan" or longer than 10 characters is skipped, a repeated one keeps its first record, an empty name
    is kept, a missing or empty price is $100.0 and a range shows as a range (:func:`webshop_pricing`), option
    values are lower-cased with "/" shown as " | ", and no rating is read (pages show "N.A.", as WebShop's
    do). ``attributes_json`` maps an ASIN to
    ``{"attributes": [...], "instruction": ..., "instruction_attributes": [...]}`` (``items_ins_v2*.json``).
    ``goals_json`` maps an ASIN to a list of human goals (``items_human_ins.json``: ``instruction``,
    ``instruction_attributes``, ``instruction_options``). Goals come from the human file when given, else
    from the attribute file's synthetic instructions; none otherwise.
    Malformed records raise :class:`TaskError`.
    """
    # goals.py reads Products, so it is imported here rather than at the top: no import cycle
    from envs.web_shop.goals import goals_from_webshop

    items = _read_json(products_json, "products")
    if not isinstance(items, list):
        raise TaskError(f"products file {str(products_json)!r} must hold a JSON list of products")
    attributes = _read_json(attributes_json, "attributes") if attributes_json is not None else None
    if attributes is not None and not isinstance(attributes, Mapping):
        raise TaskError(f"attributes file {str(attributes_json)!r} must hold a JSON object keyed by asin")
    products = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        product = product_from_webshop(item, attributes, f"products file {str(products_json)!r}, item {i}")
        if product.asin in seen:  # WebShop's scrape repeats a few items; the first one wins, as in WebShop
            continue
        if product.asin == "nan" or len(product.asin) > 10:  # skipped by WebShop's load_products
            continue
        seen.add(product.asin)
        products.append(product)
    catalog = Catalog(key=f"webshop:{Path(products_json).resolve()}", products=tuple(products))
    human = _read_json(goals_json, "goals") if goals_json is not None else None
    goals = goals_from_webshop(catalog, attributes, human, str(goals_json or attributes_json or ""))
    return ShopData(catalog=catalog, goals=goals)
