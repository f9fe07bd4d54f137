"""What a site kind produces: a workflow of planned screens and actions, and the realized task (``Draft``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from envs.web_browse.sites.dom import El
from envs.web_browse.sites.widgets import (
    Ctx,
    Plan,
    Site,
)


@dataclass(frozen=True)
class DraftStep:
    html: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]
    operation: str
    value: str
    previous_actions: tuple[str, ...]
    action_repr: str


@dataclass(frozen=True)
class Draft:
    website: str
    domain: str
    goal: str
    steps: tuple[DraftStep, ...]


Screen = Callable[[Ctx], El]


@dataclass(frozen=True)
class Workflow:
    site: Site
    goal: str
    screens: dict[str, Screen]
    plan: list[Plan]
    gold_suggestions: dict[str, str] = field(default_factory=dict)  # field key -> the suggestion to pick
