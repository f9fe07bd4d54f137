"""The product generator, WebShop's file format, the search engine and the goal generator."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from envs.core import TaskError
from envs.web_shop.catalog import Catalog, generate_catalog, load_webshop, parse_price, webshop_pricing
from envs.web_shop.goals import (
    NO_PRICE_BOUND,
    TEST_SPLIT_SHA256,
    goal_from_record,
    goals_fingerprint,
    load_goals,
    price_bound,
    split_goals,
    webshop_price_upper,
)
from envs.web_shop.search import SearchIndex, get_index, tokenize
from envs.web_shop.vocab import CATEGORIES

SAMPLE = Path(__file__).parent / "data" / "webshop_sample"
PRODUCTS = SAMPLE / "items_shuffle_sample.json"
ATTRIBUTES = SAMPLE / "items_ins_v2_sample.json"
HUMAN = SAMPLE / "items_human_ins_sample.json"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return generate_catalog(1000)


def test_generated_products_look_like_a_shop(catalog: Catalog) -> None:
    assert len(catalog) == 1000
    assert len({p.category for p in catalog}) >= 10
    assert all(re.fullmatch(r"B0[A-Z0-9]{8}", p.asin) for p in catalog)
    assert len({p.asin for p in catalog}) == 1000
    for p in catalog.products[:200]:
        assert p.brand in p.title and p.title.lower().count(p.noun) == 1
        assert p.price > 0 and 3.0 <= (p.rating or 0) <= 5.0
        assert 2 <= len(p.attributes) <= 4 and p.description and p.bullets
        assert 1 <= len(p.options) <= 2 or not p.options
        assert all(len(values) >= 2 for _, values in p.options)
        assert p.product_category.count(" › ") >= 1


def test_generation_is_seeded_and_prefix_stable(catalog: Catalog) -> None:
    generate_catalog.cache_clear()
    again = generate_catalog(1000)
    assert again is not catalog and again.products == catalog.products
    small = generate_catalog(250)
    assert small.products == catalog.products[:250]
    other = generate_catalog(250, seed=1)
    assert other.products[0].asin != small.products[0].asin
    with pytest.raises(ValueError, match="at least 1"):
        generate_catalog(0)


def test_families_make_near_duplicates(catalog: Catalog) -> None:
    # most products share brand and noun with another product: the distractors a goal must rule out
    families: dict[tuple[str, str], int] = {}
    for p in catalog:
        families[(p.brand, p.noun)] = families.get((p.brand, p.noun), 0) + 1
    with_sibling = sum(n for n in families.values() if n >= 2)
    assert with_sibling >= 0.9 * len(catalog)


def test_option_values_on_a_page_are_not_confusable(catalog: Catalog) -> None:
    for p in catalog:
        values = p.option_values()
        for i, a in enumerate(values):
            for b in values[i + 1 :]:
                assert fuzz.token_set_ratio(a, b) <= 85, (p.asin, a, b)


def test_attributes_do_not_leak_into_other_products_text(catalog: Catalog) -> None:
    # the reward's substring rule must not credit a product with an attribute it lacks
    pools = {c.key: c.attributes for c in CATEGORIES}
    for p in catalog.products[:300]:
        text = " ".join((p.title, " ".join(p.bullets), p.description)).lower()
        for attr in pools[p.category]:
            assert (attr in text) == (attr in p.attributes), (p.asin, attr)


def test_catalog_lookup_errors(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="not in catalog"):
        catalog.get("B0NOPE0000")
    with pytest.raises(ValueError, match="duplicate asin"):
        Catalog("dup", (catalog.products[0], catalog.products[0]))


# ---------------------------------------------------------------------------------------------- WebShop files


def test_load_webshop_sample() -> None:
    data = load_webshop(PRODUCTS, ATTRIBUTES, HUMAN)
    shop = data.catalog
    assert [p.asin for p in shop] == [
        "B000VOHH8I",
        "B000MJZOPK",
        "B07ZQ3K1JD",
        "B09QKP7XQJ",
    ]  # duplicate dropped
    issey = shop.get("B000VOHH8I")
    assert issey.price == 64.98 and issey.rating is None and issey.attributes == ("long lasting",)
    assert issey.options == (("size", ("2.5 fl oz", "6.76 fl oz (pack of 1)")),)
    assert issey.product_category == "Beauty & Personal Care › Fragrance › Men's › Eau de Toilette"
    assert issey.query == "men's fragrance" and issey.bullets[0] == "Long lasting fragrance"
    assert shop.get("B000MJZOPK").bullets == ("Floral scent", "Eau de toilette spray")
    # WebShop's load_products reads no ratings: its pages always show "Rating: N.A."
    assert shop.get("B000MJZOPK").rating is None
    # a range shows as WebShop's tag and is judged at a draw within it, the same in every run
    chocolate = shop.get("B07ZQ3K1JD")
    assert chocolate.price_tag == "$10.0 to $38.5" and 10.0 <= chocolate.price <= 38.5
    assert chocolate.price == load_webshop(PRODUCTS).catalog.get("B07ZQ3K1JD").price
    assert issey.price_tag == "$64.98"
    shirt = shop.get("B09QKP7XQJ")
    assert shirt.title == "Men's Slim Fit Long Sleeve Dress Shirt" and shirt.price == 24.99
    assert dict(shirt.options)["color"] == ("white", "light blue", "black")  # lower case, as WebShop
    # human goals: the one for a product outside the sample is skipped
    assert [g.asin for g in data.goals] == ["B000VOHH8I", "B09QKP7XQJ"]
    goal = data.goals[1]
    assert goal.attributes == ("machine washable", "slim fit")
    assert goal.option_values() == ["light blue", "large"]
    assert goal.price_upper in (40.0, 50.0, 60.0)  # the larger of two of 30-60: never the first
    assert goal.instruction.endswith(f", and price lower than {goal.price_upper:.2f} dollars")
    assert goal.title == shirt.title and goal.query == "men's dress shirts"


def test_load_webshop_synthetic_goals_from_attributes() -> None:
    data = load_webshop(PRODUCTS, ATTRIBUTES)
    assert [g.asin for g in data.goals] == ["B000VOHH8I", "B07ZQ3K1JD", "B09QKP7XQJ"]
    chocolate = data.goals[1]
    assert chocolate.attributes == ("gluten free", "usda organic")
    assert {g for g, _ in chocolate.options} == {"flavor name", "size"}
    assert load_webshop(PRODUCTS).goals == ()


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"name": "x", "pricing": "$1"}, "missing field 'asin'"),
        ({"asin": "B0X", "pricing": "$1"}, "missing field 'name'"),
        ({"asin": "B0X", "name": "x", "pricing": "free"}, "no price"),
        (
            {"asin": "B0X", "name": "x", "pricing": "$1", "customization_options": ["red"]},
            "must be an object",
        ),
        (
            {"asin": "B0X", "name": "x", "pricing": "$1", "customization_options": {"c": [{"image": 1}]}},
            "without a",
        ),
        ("not a product", "must be a JSON object"),
    ],
)
def test_load_webshop_rejects_bad_records(tmp_path: Path, record: object, reason: str) -> None:
    path = tmp_path / "items.json"
    path.write_text(json.dumps([record]))
    with pytest.raises(TaskError, match=reason) as err:
        load_webshop(path)
    assert "item 0" in str(err.value)


def test_load_webshop_bad_files(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="does not exist"):
        load_webshop(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TaskError, match="not valid JSON"):
        load_webshop(bad)
    bad.write_text('{"asin": "B0X"}')
    with pytest.raises(TaskError, match="JSON list"):
        load_webshop(bad)
    human = tmp_path / "human.json"
    human.write_text(json.dumps({"B000VOHH8I": [{"asin": "B000VOHH8I"}]}))
    with pytest.raises(TaskError, match="missing field 'instruction'"):
        load_webshop(PRODUCTS, goals_json=human)


def test_webshop_pricing_as_load_products() -> None:
    # missing or empty: WebShop's default, shown as Python prints the float
    for missing in (None, "", []):
        assert webshop_pricing(missing, "B0X", "x") == (100.0, "$100.0")
    assert webshop_pricing("$12.99", "B0X", "x") == (12.99, "$12.99")
    assert webshop_pricing("$1,299.00", "B0X", "x") == (1299.0, "$1299.0")
    assert webshop_pricing([24.99], "B0X", "x") == (24.99, "$24.99")
    # a range: the first two numbers, shown "lo to hi", judged at a draw within it, fixed per ASIN
    price, tag = webshop_pricing("$10.00 - $20.00 - $30.00", "B0X", "x")
    assert tag == "$10.0 to $20.0" and 10.0 <= price <= 20.0
    assert webshop_pricing([10.0, 20.0], "B0X", "x")[0] == price
    assert webshop_pricing([10.0, 20.0], "B0Y", "x")[0] != price
    with pytest.raises(TaskError, match="no price"):
        webshop_pricing("free", "B0X", "x")


def test_webshop_records_load_as_webshop_loads_them(tmp_path: Path) -> None:
    records = [
        {"asin": "B0NOPRICE1", "name": "Cedar Planter Box"},  # no pricing at all
        {"asin": "B0EMPTY001", "name": "", "pricing": ""},  # empty name and price: served
        {"asin": "nan", "name": "Scrape debris", "pricing": "$1"},  # skipped by WebShop
        {"asin": "B0TOOLONG123", "name": "Too long an asin", "pricing": "$1"},  # skipped too
        {
            "asin": "B0OPTIONS1",
            "name": "Wool Socks",
            "pricing": "$8.00 - $12.00",
            "average_rating": 4.7,
            "customization_options": {"Color": [{"value": "Grey/Blue"}], "Size": None},
        },
    ]
    path = tmp_path / "items.json"
    path.write_text(json.dumps(records))
    shop = load_webshop(path).catalog
    assert [p.asin for p in shop] == ["B0NOPRICE1", "B0EMPTY001", "B0OPTIONS1"]
    assert (shop.get("B0NOPRICE1").price, shop.get("B0NOPRICE1").price_tag) == (100.0, "$100.0")
    assert shop.get("B0EMPTY001").title == ""
    socks = shop.get("B0OPTIONS1")
    assert socks.options == (("color", ("grey | blue",)),)  # lower case, "/" as " | ", a null group skipped
    assert socks.rating is None and socks.price_tag == "$8.0 to $12.0"


def test_webshop_price_upper_rule() -> None:
    # price 12.5: the first four multiples above are 20-50; the larger of two distinct draws is 30, 40 or 50
    # with chances 1/6, 2/6, 3/6
    drawn = [webshop_price_upper(12.5, random.Random(i)) for i in range(600)]
    assert set(drawn) == {30.0, 40.0, 50.0}
    assert drawn.count(50.0) > drawn.count(40.0) > drawn.count(30.0)
    assert webshop_price_upper(975.0, random.Random(0)) == 990.0  # only 980 and 990 are left: 990
    assert webshop_price_upper(985.0, random.Random(0)) == NO_PRICE_BOUND  # one multiple left: no bound


def test_human_goals_as_webshop_reads_them(tmp_path: Path) -> None:
    human = {
        "B09QKP7XQJ": [
            {"instruction": "i want a slim fit dress shirt.", "instruction_attributes": ["slim fit"],
             "instruction_options": ["white", "large"]},
            {"instruction": "a shirt please", "instruction_attributes": [], "instruction_options": ["black"]},
        ],
    }  # fmt: skip
    path = tmp_path / "human.json"
    path.write_text(json.dumps(human))
    goals = load_webshop(PRODUCTS, ATTRIBUTES, path).goals
    assert len(goals) == 1  # the goal without instruction_attributes is skipped, as WebShop skips it
    goal = goals[0]
    assert goal.instruction.startswith("i want a slim fit dress shirt, and price lower than ")
    assert goal.option_values() == ["white", "large"] and goal.price_upper in (40.0, 50.0, 60.0)
    expensive = tmp_path / "items.json"
    expensive.write_text(json.dumps([{"asin": "B09QKP7XQJ", "name": "Shirt", "pricing": "$985.00"}]))
    pricey = load_webshop(expensive, goals_json=path).goals[0]
    assert pricey.price_upper == NO_PRICE_BOUND and pricey.instruction == "i want a slim fit dress shirt"


def test_parse_price_forms() -> None:
    assert parse_price("$1,299.00", "x") == 1299.0
    assert parse_price([12.5, 20.0], "x") == 12.5
    assert parse_price(7, "x") == 7.0
    with pytest.raises(TaskError, match="no price"):
        parse_price(None, "x")


# ---------------------------------------------------------------------------------------------- search


def test_search_ranks_by_bm25_and_caps_at_50(catalog: Catalog) -> None:
    index = get_index(catalog)
    assert get_index(catalog) is index  # cached per catalogue
    target = catalog.products[10]
    hits = index.search(f"{target.brand} {target.attributes[0]} {target.noun}")
    assert target.asin in hits[:10]
    assert 1 <= len(hits) <= 50 and len(set(hits)) == len(hits)
    assert index.search("zzzz qqqq") == [] and index.search("") == [] and index.search("the and of") == []
    broad = index.search("electronics")  # one department: about 80 of 1,000 products
    assert len(broad) == 50


def test_search_result_order_is_deterministic_and_relevant() -> None:
    shop = load_webshop(PRODUCTS).catalog
    index = SearchIndex(shop)
    assert index.search("dress shirt")[0] == "B09QKP7XQJ"
    assert index.search("issey miyake men")[0] == "B000VOHH8I"
    assert set(index.search("l'eau d'issey")) == {"B000VOHH8I", "B000MJZOPK"}
    assert index.search("issey") == index.search("issey")


def test_tokenize() -> None:
    assert tokenize("I need a 6.76 Fl-Oz bottle of L'eau") == ["6", "76", "fl", "oz", "bottle", "l", "eau"]


# ---------------------------------------------------------------------------------------------- goals


def test_test_split_is_fixed_and_versioned(catalog: Catalog) -> None:
    goals = split_goals(catalog, "test")
    assert len(goals) == 100
    # a change here changes the benchmark: bump promptless/WebShop-v<N> and update TEST_SPLIT_SHA256
    assert goals_fingerprint(goals) == TEST_SPLIT_SHA256
    assert goals_fingerprint(split_goals(generate_catalog(2500), "test")) == TEST_SPLIT_SHA256


def test_goals_are_written_from_their_target(catalog: Catalog) -> None:
    index = get_index(catalog)
    goals = split_goals(catalog, "test")
    assert len({g.instruction for g in goals}) == 100
    dev = split_goals(catalog, "dev", limit=20)
    assert not {g.instruction for g in dev} & {g.instruction for g in goals}
    for goal in goals:
        product = catalog.get(goal.asin)
        assert set(goal.attributes) <= set(product.attributes) and goal.attributes
        for group, value in goal.options:
            assert value in dict(product.options)[group] and value in goal.instruction
        assert product.price < goal.price_upper <= product.price + 40
        assert re.search(r", and price lower than \d+\.00 dollars$", goal.instruction)
        assert (
            all(a in goal.instruction for a in goal.attributes) and product.brand.lower() in goal.instruction
        )
        assert all(w in goal.instruction for w in goal.keywords.split())
        # the keywords find the target on the first results page
        assert goal.asin in index.search(goal.keywords)[:10]


def test_price_bound_rule() -> None:
    import random

    rnd = random.Random(0)
    bounds = {price_bound(64.98, rnd) for _ in range(200)}
    assert bounds == {70.0, 80.0, 90.0, 100.0}
    assert {price_bound(70.0, rnd) for _ in range(200)} == {80.0, 90.0, 100.0, 110.0}


def test_goal_records_and_task_files(tmp_path: Path, catalog: Catalog) -> None:
    asin = catalog.products[3].asin
    record = {
        "asin": asin,
        "instruction": "buy it",
        "attributes": ["a"],
        "options": {"color": "red"},
        "price_upper": 50,
    }
    goal = goal_from_record(record, catalog, "here")
    assert goal.options == (("color", "red"),) and goal.title == catalog.products[3].title
    for field in ("asin", "instruction", "attributes", "options", "price_upper"):
        broken = {k: v for k, v in record.items() if k != field}
        with pytest.raises(TaskError, match=f"here: missing field '{field}'"):
            goal_from_record(broken, catalog, "here")
    with pytest.raises(TaskError, match="not in catalog"):
        goal_from_record({**record, "asin": "B0NOPE0000"}, catalog, "here")
    with pytest.raises(TaskError, match="must be a number"):
        goal_from_record({**record, "price_upper": "cheap"}, catalog, "here")
    with pytest.raises(TaskError, match="list of strings"):
        goal_from_record({**record, "attributes": "a"}, catalog, "here")
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{**record, "id": "mine-1"}, record]))
    loaded = load_goals(path, catalog)
    assert [tid for tid, _ in loaded] == ["mine-1", None]
    path.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(TaskError, match="JSON list"):
        load_goals(path, catalog)
