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
