"""A small registry of names to ``"module:attr"`` targets, imported only when used, with "did you mean".

Why lazy: a name table must be cheap to import and to list (``harness.run --list``), while the things it
names pull in torch, Docker or a user's package. The agents' registry and the users' plug-ins
(``PROMPTLESS_EXTRA_AGENTS`` / ``PROMPTLESS_EXTRA_ENVS``) both use it; it sits in ``envs``, the bottom
layer, so that every layer above may. Envs themselves are registered with Gymnasium, the standard registry
of their kind.

Example::

    tools = LazyRegistry("tool")
    tools.register("fast", "mypkg.tools:Fast", "the fast one")
    tools.load("fats")  # LookupError: unknown tool 'fats' (did you mean 'fast'?); choose from ['fast']
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class TargetError(LookupError):
    """A name or a ``module:attr`` target that cannot be resolved; the message says which and why."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A " (did you mean 'x'?)" hint for a typo, or "" when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_object(target: str) -> Any:
    """Import ``"module:attr"`` and return the attribute, with a clear error when either is missing."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"bad entry point {target!r}: expected 'module:attr'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"cannot import {module_name!r} for entry point {target!r}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise TargetError(
            f"module {module_name!r} has no attribute {attr!r} (entry point {target!r})"
        ) from None


@dataclass(frozen=True)
class Entry:
    """One registered name: its ``module:attr`` target and a one-line description."""

    name: str
    target: str
    description: str = ""


class LazyRegistry:
    """Names to targets in registration order; ``load`` imports a target the first time it is asked for."""

    def __init__(self, kind: str):
        self.kind = kind  # "agent", "env": used in error messages
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, target: str, description: str = "") -> None:
        """Add ``name`` (or replace it): ``target`` is ``"module:attr"``."""
        if ":" not in target:
            raise ValueError(f"target must look like 'module:attr', got {target!r}")
        self._entries[name] = Entry(name, target, description)

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> Entry:
        """The entry called ``name``; a typo gets the closest name suggested."""
        try:
            return self._entries[name]
        except KeyError:
            raise TargetError(
                f"unknown {self.kind} {name!r}{did_you_mean(name, self._entries)}; choose from {self.names()}"
            ) from None

    def load(self, name: str) -> Any:
        """The object ``name`` stands for, imported now."""
        return load_object(self.get(name).target)
