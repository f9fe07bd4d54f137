"""WebShop's reward on hand-computed cases: attributes, options, price and the type factor."""

from __future__ import annotations

import dataclasses

import pytest

from envs.web_shop.catalog import Product
from envs.web_shop.goals import Goal
from envs.web_shop.reward import (
    attribute_matches,
    normalize_color,
    option_matches,
    score_purchase,
    title_nouns,
    type_reward,
)

FRAGRANCE = "Beauty & Personal Care › Fragrance › Women's › Eau de Toilette"
TARGET = Product(
    asin="B0TARGET01",
    title="Lumiere Vale Long Lasting Eau De Toilette Spray, 3.4 Fl Oz",
    category="beauty",
    product_category=FRAGRANCE,
    query="eau de toilette",
    brand="Lumiere Vale",
    noun="eau de toilette spray",
    price=45.0,
    attributes=("long lasting", "paraben free"),
    options=(("size", ("1.7 fl oz", "3.4 fl oz")), ("scent", ("vanilla", "rose"))),
    description="A fresh scent for every day.",
    bullets=("Made in small batches.",),
)
GOAL = Goal(
    asin=TARGET.asin,
    instruction="i need a long lasting and cruelty free eau de toilette, and price lower than 50.00 dollars",
    attributes=("long lasting", "cruelty free"),
    options=(("size", "3.4 fl oz"), ("scent", "vanilla")),
    price_upper=50.0,
    query="eau de toilette",
    category=FRAGRANCE,
    title=TARGET.title,
)


def test_title_nouns_drop_descriptors_units_and_numbers() -> None:
    assert title_nouns(TARGET.title) == {"lumiere", "vale", "eau", "de", "toilette", "spray"}
    assert title_nouns("Men's Slim Fit Long Sleeve Black Dress Shirt, Pack of 2") == {
        "fit", "sleeve", "dress", "shirt",
    }  # fmt: skip
    assert title_nouns("L'eau D'issey 6.7 oz") == {"l'eau", "d'issey"}


def test_full_purchase_partial_attributes() -> None:
    # 1 of 2 attributes, both options, price ok: (1 + 2 + 1) / (2 + 2 + 1)
    result = score_purchase(TARGET, {"size": "3.4 fl oz", "scent": "vanilla"}, GOAL)
    assert result.reward == pytest.approx(4 / 5)
    assert (result.r_type, result.attr_matched, result.option_matched, result.price_ok) == (1.0, 1, 2, True)


def test_attribute_found_in_text_counts() -> None:
    product = dataclasses.replace(TARGET, description="Cruelty free and vegan.")
    assert score_purchase(product, {"size": "3.4 fl oz", "scent": "vanilla"}, GOAL).reward == 1.0


def test_price_over_the_bound() -> None:
    product = dataclasses.replace(TARGET, price=55.0)
    result = score_purchase(product, {"size": "3.4 fl oz", "scent": "vanilla"}, GOAL)
    assert result.reward == pytest.approx(3 / 5) and not result.price_ok
    assert score_purchase(dataclasses.replace(TARGET, price=50.0), ["3.4 fl oz", "vanilla"], GOAL).price_ok


def test_missing_and_wrong_options() -> None:
    assert score_purchase(TARGET, {}, GOAL).reward == pytest.approx(2 / 5)
    assert score_purchase(TARGET, {"size": "1.7 fl oz", "scent": "vanilla"}, GOAL).reward == pytest.approx(
        3 / 5
    )


def test_fuzzy_attribute_and_colour_matching() -> None:
    assert (
        attribute_matches(TARGET, ["lasting long"]) == 1
    )  # same token set: ratio 100, though not a substring
    assert attribute_matches(TARGET, ["long lasting scent"]) == 1  # a token superset also scores 100
    assert attribute_matches(TARGET, ["long-lasting"]) == 0  # one token "long-lasting" vs two: ratio < 85
    assert attribute_matches(TARGET, ["sulfate free"]) == 0
    assert normalize_color("Forest Green") == "green" and normalize_color("standard") == "standard"
    assert normalize_color("navy blue") == "navy"  # longest colour word first, whole words only
    assert option_matches(["Green"], ["forest green"]) == 1
    assert option_matches(["navy"], ["forest green"]) == 0
    assert option_matches(["large"], ["x-large"]) == 0


def test_type_reward_levels() -> None:
    # same query and category: 1
    assert type_reward(TARGET, GOAL) == (1.0, 1.0)
    # another product of the category: category match, two of six nouns
    parfum = dataclasses.replace(
        TARGET,
        title="Oraleen Eau De Parfum Mist, 1 Fl Oz",
        query="perfume",
        product_category="Beauty & Personal Care › Fragrance › Women's › Eau de Parfum",
    )
    r_type, score = type_reward(parfum, GOAL)
    assert r_type == 1.0 and score == pytest.approx(2 / 6)
    # no query or category match, one noun of six (0.167, not > 0.2): 0.5
    lotion = dataclasses.replace(
        TARGET, title="Oraleen Spray Bottle Moisturizer", query="moisturizer",
        product_category="Beauty & Personal Care › Skin Care",
    )  # fmt: skip
    assert type_reward(lotion, GOAL) == (0.5, pytest.approx(1 / 6))
    # one noun of eleven (< 0.1): 0.1, even with the category matching
    many = dataclasses.replace(
        GOAL, title="Alpha Beta Gamma Delta Epsilon Zeta Theta Iota Kappa Lambda Sigma"
    )
    widget = dataclasses.replace(TARGET, title="Sigma Widget")
    assert type_reward(widget, many) == (0.1, pytest.approx(1 / 11))
    # no noun in common: 0, and so is the reward
    speaker = dataclasses.replace(
        TARGET, title="Voltera Bluetooth Speaker", query="speaker", product_category="Electronics"
    )
    assert type_reward(speaker, GOAL) == (0.0, 0.0)
    assert score_purchase(speaker, {"size": "3.4 fl oz", "scent": "vanilla"}, GOAL).reward == 0.0
    # a goal title without nouns scores 0.2: r_type 1 only with a query or category match
    no_nouns = dataclasses.replace(GOAL, title="Long Lasting 3.4 Fl Oz")
    assert type_reward(TARGET, no_nouns) == (1.0, 0.2)
    assert type_reward(speaker, no_nouns) == (0.5, 0.2)


def test_r_type_scales_the_reward() -> None:
    half = dataclasses.replace(
        TARGET, query="moisturizer", product_category="Beauty & Personal Care › Skin Care",
        title="Oraleen Spray Bottle Moisturizer",
    )  # fmt: skip
    result = score_purchase(half, {"size": "3.4 fl oz", "scent": "vanilla"}, GOAL)
    assert result.r_type == 0.5 and result.reward == pytest.approx(0.5 * 4 / 5)


def test_goal_without_attributes_or_options() -> None:
    goal = dataclasses.replace(GOAL, attributes=(), options=())
    assert score_purchase(TARGET, {}, goal).reward == 1.0
    assert score_purchase(dataclasses.replace(TARGET, price=99.0), {}, goal).reward == 0.0


def test_weights_are_webshops() -> None:
    # |U_att| = 2, |U_opt| = 2: n = 5; attributes weigh 2/5, options 2/5, price 1/5
    result = score_purchase(TARGET, {"size": "3.4 fl oz", "scent": "rose"}, GOAL)
    assert (result.w_att, result.w_option, result.w_price) == (pytest.approx(0.4), pytest.approx(0.4), 0.2)
    assert (result.r_att, result.r_option) == (0.5, 0.5)  # "cruelty free" and "vanilla" missed
    # R = 1 * (0.4 * 0.5 + 0.4 * 0.5 + 0.2 * 1) = 0.6, the same as (1 + 1 + 1) / 5
    assert result.reward == pytest.approx(0.6)
    over = score_purchase(dataclasses.replace(TARGET, price=50.01), ["3.4 fl oz", "vanilla"], GOAL)
    # price just over the bound: 0.4 * 0.5 + 0.4 * 1 + 0.2 * 0 = 0.6
    assert not over.price_ok and over.reward == pytest.approx(0.6)
    bare = score_purchase(TARGET, {}, dataclasses.replace(GOAL, attributes=(), options=()))
    assert (bare.w_att, bare.w_option, bare.w_price, bare.r_att, bare.r_option) == (0.0, 0.0, 1.0, None, None)


def test_title_score_counts_repeated_nouns_as_webshop() -> None:
    # WebShop divides by the length of the target's noun-token list, repeats included: the target title has
    # 7 noun tokens (argan x3, shampoo x2, conditioner, refill), the bought one shares "argan": 1/7 < 0.2,
    # so with no query or category match r_type is 0.5 (a set of 4 nouns would give 1/4 and r_type 1)
    goal = dataclasses.replace(
        GOAL, title="Argan Shampoo, Argan Shampoo, Argan Conditioner Refill", query="shampoo",
        category="Beauty & Personal Care › Hair Care",
    )  # fmt: skip
    comb = dataclasses.replace(
        TARGET, title="Argan Comb", query="comb", product_category="Beauty & Personal Care › Tools"
    )
    r_type, title_score = type_reward(comb, goal)
    assert title_score == pytest.approx(1 / 7) and r_type == 0.5
