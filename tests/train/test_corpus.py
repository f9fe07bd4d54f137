"""The expert corpus: real oracle episodes under every prompt variant, which parse back to the same actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import envs
from train.corpus import CorpusConfig, build_corpus, load_records
from train.oracle_episodes import END_CONVERSATION


def _os_action(reply: str, variant: str) -> Any:
    from envs.os_shell.protocol import parse_reply

    action = parse_reply(reply, variant)
    return (action.kind, action.content)


def _web_action(reply: str, variant: str) -> Any:
    from envs.web_browse.protocol import parse_reply

    action = parse_reply(reply, variant)
    return (action.choice, action.operation, action.value)


def _shop_action(reply: str, variant: str) -> Any:
    from envs.web_shop.protocol import parse_reply

    action = parse_reply(reply, variant)
    return (action.kind, action.argument)


PARSERS: dict[str, Callable[[str, str], Any]] = {"os": _os_action, "web": _web_action, "shop": _shop_action}


def _actions_by_task(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, list[Any]]]:
    table: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for record in records:
        if record["kind"] != "agent":
            continue
        parse = PARSERS[record["env"]]
        replies = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
        actions = [parse(reply, record["variant"]) for reply in replies]
        # an env with independent rounds (web) gives one record per round, in order: gather them
        table.setdefault((record["env"], record["task_id"]), {}).setdefault(record["variant"], []).extend(
            actions
        )
    return table


def _check_variants_agree(records: list[dict[str, Any]], env_names: tuple[str, ...]) -> None:
    table = _actions_by_task(records)
    assert {env for env, _ in table} == set(env_names)
    for (env_name, task_id), by_variant in table.items():
        variants = envs.make(env_name, split="train", limit=1).unwrapped.prompt_variants
        assert set(by_variant) == set(variants), (env_name, task_id)
        first = next(iter(by_variant.values()))
        assert first, f"{env_name}/{task_id} has no agent reply"
        for variant, actions in by_variant.items():
            assert actions == first, f"{env_name}/{task_id}: {variant} acts differently"


def test_every_variant_replays_the_same_actions_in_its_own_format(tiny_corpus):
    records = tiny_corpus.records()
    _check_variants_agree(records, ("web", "shop"))
    for record in records:
        assert record["prompt"], "every conversation carries its variant's prompt"
        assert record["score"] == 1.0
        prompt = envs.make(record["env"], split="train", prompt_variant=record["variant"], limit=1)
        if record["kind"] == "agent":
            assert record["prompt"] == prompt.unwrapped.prompt_messages()
    # the formats really differ: the same task's first reply is not the same text under two variants
    first_reply: dict[tuple[str, str, str], str] = {}
    for record in records:
        if record["kind"] == "agent":
            reply = next(m["content"] for m in record["messages"] if m["role"] == "assistant")
            first_reply.setdefault((record["env"], record["task_id"], record["variant"]), reply)
    firsts: dict[tuple[str, str], set[str]] = {}
    for (env_name, task_id, _), reply in first_reply.items():
        firsts.setdefault((env_name, task_id), set()).add(reply)
    assert all(len(replies) == 3 for replies in firsts.values())


def test_independent_rounds_are_separate_conversations_as_the_runner_shows_them(tiny_corpus):
    agent = [r for r in tiny_corpus.records() if r["kind"] == "agent"]
    web = [r for r in agent if r["env"] == "web"]
    assert web and all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in web)
    shop = [r for r in agent if r["env"] == "shop"]
    assert max(len(r["messages"]) for r in shop) > 2  # shop episodes stay whole conversations


def test_env_side_conversations_swap_the_roles(tiny_corpus):
    records = tiny_corpus.records()
    agent: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records:
        if r["kind"] == "agent":  # the rounds of an independent-turn episode, joined back in order
            key = (r["env"], r["variant"], r["task_id"])
            joined = agent.setdefault(key, {"prompt": r["prompt"], "messages": []})
            joined["messages"] = joined["messages"] + r["messages"]
    env_side = [r for r in records if r["kind"] == "env"]
    assert len(env_side) == round(0.5 * len(agent))
    for record in env_side:
        twin = agent[(record["env"], record["variant"], record["task_id"])]
        observations = [m["content"] for m in twin["messages"] if m["role"] == "user"]
        assert [m["content"] for m in record["messages"] if m["role"] == "assistant"][:-1] == observations
        assert [m for m in record["messages"] if m["role"] == "user"] == [
            {"role": "user", "content": m["content"]} for m in twin["messages"] if m["role"] == "assistant"
        ]
        assert record["messages"][-1]["content"].endswith(END_CONVERSATION)
        assert twin["prompt"][0]["content"] in record["prompt"][0]["content"]


def test_cache_hit_is_instant_and_hash_is_recorded(tiny_corpus):
    meta = json.loads((tiny_corpus.path.parent / "corpus_meta.json").read_text())
    assert meta["data_hash"] == tiny_corpus.data_hash and len(meta["data_hash"]) == 64
    assert sum(meta["counts"].values()) == len(load_records(tiny_corpus.path))
    stamp = tiny_corpus.path.stat().st_mtime_ns
    again = build_corpus(
        CorpusConfig(envs=("web", "shop"), episodes_per_env=2, env_share=0.5, seed=0),
        tiny_corpus.path.parent,
        progress=False,
    )
    assert again.path.stat().st_mtime_ns == stamp and again.data_hash == tiny_corpus.data_hash


def test_rebuild_is_deterministic(tmp_path):
    config = CorpusConfig(envs=("shop",), episodes_per_env=1, env_share=0.0, seed=5)
    a = build_corpus(config, tmp_path / "a", progress=False)
    b = build_corpus(config, tmp_path / "b", progress=False, force=True)
    assert a.data_hash == b.data_hash


def test_unknown_env_or_variant_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown env 'mail'"):
        build_corpus(CorpusConfig(envs=("mail",)), tmp_path, progress=False)
    with pytest.raises(ValueError, match="no prompt variant"):
        build_corpus(CorpusConfig(envs=("shop",), variants=("yaml",)), tmp_path, progress=False)


@pytest.mark.docker
@pytest.mark.slow
def test_os_corpus_in_docker(docker_image, tmp_path):
    config = CorpusConfig(envs=("os",), episodes_per_env=2, env_share=0.0, seed=0, os_concurrency=2)
    corpus = build_corpus(config, tmp_path, progress=False)
    records = corpus.records()
    assert len(records) == 2 * 3
    _check_variants_agree(records, ("os",))


def _shop_episode(variant: str, task_index: int) -> Any:
    from train.oracle_episodes import play_oracle

    env = envs.make("shop", split="train", prompt_variant=variant, limit=task_index + 1)
    try:
        return play_oracle(env, env.unwrapped.task_ids()[task_index], task_index, "shop", variant)
    finally:
        env.close()


@pytest.mark.parametrize("variant", ["agentbench", "json", "react"])
def test_shop_demonstrations_open_the_top_result_or_are_left_out(variant):
    from envs.web_shop.protocol import observation_clickables
    from train.corpus import opens_top_result

    verdicts = []
    for i in range(12):
        ep = _shop_episode(variant, i)
        at = next(i for i, m in enumerate(ep.messages) if "Page 1 (Total results" in m["content"])
        top = next(
            c
            for c in observation_clickables(ep.messages[at]["content"])
            if c not in ("Back to Search", "Next >")
        )
        opened = PARSERS["shop"](ep.messages[at + 1]["content"], variant)
        assert opens_top_result(ep) == (opened == ("click", top)), (i, opened, top)
        verdicts.append(opens_top_result(ep))
    assert any(verdicts) and not all(verdicts)  # both kinds occur, so the predicate decides something


def test_corpus_keeps_only_consistent_shop_episodes(tmp_path):
    from train.corpus import opens_top_result
    from train.oracle_episodes import Episode

    corpus = build_corpus(
        CorpusConfig(envs=("shop",), episodes_per_env=12, env_share=0.0), tmp_path, progress=False
    )
    records = [r for r in load_records(corpus.path) if r["kind"] == "agent"]
    assert records and corpus.meta["per_env"]["shop"]["dropped_inconsistent"] > 0
    for r in records:
        ep = Episode("shop", r["variant"], r["task_id"], r["prompt"], r["messages"], "", r["score"], False)
        assert opens_top_result(ep) and r["score"] == 1.0
    kept = corpus.meta["per_env"]["shop"]["kept"] + corpus.meta["per_env"]["shop"]["dropped_inconsistent"]
    assert kept == 12 * 3
