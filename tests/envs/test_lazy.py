"""The lazy name registry shared by the agents' registry and the users' plug-ins."""

from __future__ import annotations

import sys

import pytest

from envs.lazy import LazyRegistry, TargetError, did_you_mean, load_object


def test_a_target_is_imported_only_when_loaded() -> None:
    registry = LazyRegistry("tool")
    registry.register("fmt", "textwrap:fill", "wraps text")
    registry.register("gone", "promptless_no_such_module:thing")
    assert registry.names() == ["fmt", "gone"] and "fmt" in registry
    assert "promptless_no_such_module" not in sys.modules  # registering imported nothing
    assert registry.load("fmt")("a b", width=1) == "a\nb"
    with pytest.raises(TargetError, match="cannot import 'promptless_no_such_module'"):
        registry.load("gone")


def test_unknown_names_and_bad_targets_say_what_is_wrong() -> None:
    registry = LazyRegistry("tool")
    registry.register("teacher", "textwrap:fill")
    with pytest.raises(TargetError, match=r"unknown tool 'techer' \(did you mean 'teacher'\?\); choose from"):
        registry.get("techer")
    with pytest.raises(ValueError, match="module:attr"):
        registry.register("x", "textwrap.fill")
    with pytest.raises(TargetError, match="has no attribute 'nope'"):
        load_object("textwrap:nope")
    assert did_you_mean("zzz", ["teacher"]) == ""
