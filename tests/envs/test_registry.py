"""The env registry's helpers: names to Gymnasium ids, and each env's reply parser."""

from __future__ import annotations

import pytest

import envs
from envs.os_shell.protocol import Action as OSAction
from envs.os_shell.protocol import render_action as render_os
from envs.web_shop.protocol import Action as ShopAction
from envs.web_shop.protocol import render_action as render_shop


def test_reply_parser_is_each_envs_own_parser() -> None:
    os_reply = render_os(OSAction("bash", "ls | wc -l"), "Count them.", "react")
    shop_reply = render_shop(ShopAction("click", "Buy Now"), "Buy it.", "react")
    assert envs.reply_parser("os")(os_reply, "react") == OSAction("bash", "ls | wc -l")
    assert envs.reply_parser("promptless/WebShop-v0")(shop_reply, "react") == ShopAction("click", "Buy Now")
    with pytest.raises(ValueError):  # the OS parser does not read a shop action
        envs.reply_parser("os")(shop_reply, "react")


def test_reply_parser_rejects_an_unknown_env_and_a_bad_reply() -> None:
    with pytest.raises(ValueError, match="unknown env 'chess'"):
        envs.reply_parser("chess")
    with pytest.raises(ValueError):
        envs.reply_parser("web")("I would pick the second link", "agentbench")


def test_every_env_declares_its_reply_syntax_limits_and_turn_limit() -> None:
    from envs.os_shell.protocol import load_protocol
    from envs.web_shop.protocol import protocol_data

    for name in envs.ENV_NAMES:
        cls = envs.env_class(name)
        assert set(cls.syntaxes) == set(cls.prompt_variants), name
        defaults = envs.generation_defaults(name)
        assert defaults["max_new_tokens"] >= 64 and all(s.startswith("\n") for s in defaults["stop"])
    # The registered turn limits are AgentBench's round limits, read back by the envs themselves.
    assert envs.env_class("os").turn_limit() == load_protocol().round_limit == 8
    assert envs.env_class("shop").turn_limit() == protocol_data().round_limit == 10
    assert envs.env_class("web").turn_limit() is None  # it ends its episodes when the task's steps run out


def test_one_invalid_action_error_for_every_env_and_variant() -> None:
    for name in envs.ENV_NAMES:
        cls = envs.env_class(name)
        for variant in cls.prompt_variants:
            with pytest.raises(envs.InvalidAction):
                cls.parse_reply("nothing an env could read", variant)
            with pytest.raises(envs.InvalidAction, match="must be a string"):
                cls.parse_reply(None, variant)
        with pytest.raises(ValueError, match=f"unknown prompt variant 'xml' for env '{name}'"):
            cls.parse_reply("x", "xml")


def test_a_users_env_is_asked_the_same_way() -> None:
    import gymnasium as gym

    from tests.harness.toy_env import AddEnv

    gym_id = "promptless-extra/toy"
    if gym_id not in gym.registry:
        gym.register(
            id=gym_id, entry_point="tests.harness.toy_env:AddEnv", max_episode_steps=AddEnv.max_turns
        )
    assert envs.env_class("toy") is AddEnv
    assert envs.generation_defaults("toy") == {"max_new_tokens": 256, "stop": ()}
    assert AddEnv.turn_limit() == 3
