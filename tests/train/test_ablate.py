"""train.ablate: a preset variant trains on a corpus under each prompt mode and comes back with probe figures."""

from __future__ import annotations

import json

import pytest

from train.ablate import main, parse_overrides, with_prompts

pytestmark = pytest.mark.slow


def test_overrides_parse_as_json_or_text_and_bad_pairs_are_refused():
    assert parse_overrides(["steps=7", "pretokenizer=copy", "lr=0.01"]) == {
        "steps": 7,
        "pretokenizer": "copy",
        "lr": 0.01,
    }
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_overrides(["steps"])


def test_prompt_modes_replace_double_or_keep_the_prompts(tiny_corpus):
    records = [r for r in tiny_corpus.records() if r["kind"] == "agent"]
    assert with_prompts(records, "full") == records
    tagged = with_prompts(records, "tag")
    assert all(r["prompt"][0]["content"] == f"Reply format: {r['variant']}." for r in tagged)
    assert len(with_prompts(records, "mix")) == 2 * len(records)
    with pytest.raises(ValueError, match="unknown prompt mode"):
        with_prompts(records, "none")


def test_cli_trains_a_micro_variant_under_tags_and_probes_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROMPTLESS_HOME", str(tmp_path / "home"))
    code = main(
        [str(tmp_path / "m"), "--envs", "web,shop", "--preset", "micro", "--set", "steps=2", "--prompt",
         "tag", "--no-progress"]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["overrides"] == {"steps": 2} and result["prompt"] == "tag"
    assert set(result["probe"]) == {"web", "shop"} and result["probe"]["web"]["replies"] > 0
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert len(metrics["loss"]) == 2
