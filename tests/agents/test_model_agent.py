from __future__ import annotations

from pathlib import Path

import pytest

from agents.backends.hf import HFBackend
from agents.base import Agent, EpisodeState
from agents.model_agent import FALLBACK_GENERATION, ModelAgent, generation_for

PROMPT = [
    {"role": "user", "content": "You are web shopping. Respond with Thought: and Action: lines."},
    {"role": "assistant", "content": "Ok."},
]


def _state(messages: list[dict[str, str]]) -> EpisodeState:
    return EpisodeState("shop", "shop-test-0000", PROMPT, messages)  # type: ignore[arg-type]


def test_teacher_sees_the_prompt_and_noprompt_does_not(tiny_model: Path) -> None:
    first = [{"role": "user", "content": "Observation: WebShop [SEP] Search"}]
    state = _state(first)
    with HFBackend(tiny_model, device="cpu") as backend:
        teacher = ModelAgent("teacher", backend, use_prompt=True, max_new_tokens=8)
        noprompt = ModelAgent("noprompt", backend, use_prompt=False, max_new_tokens=8)
        assert isinstance(teacher, Agent)
        assert teacher.messages(state) == PROMPT + first
        assert noprompt.messages(state) == first
        with_prompt, without = teacher.reply(state), noprompt.reply(state)
        assert with_prompt.usage.prompt_tokens == len(backend.encode(PROMPT + first))
        assert without.usage.prompt_tokens == len(backend.encode(first))
        assert with_prompt.usage.calls == without.usage.calls == 1
        assert 1 <= with_prompt.usage.generated_tokens <= 8
        direct = backend.generate(PROMPT + first, max_new_tokens=8, stop=[])
        assert with_prompt.text == direct.text


def test_episode_must_end_with_an_observation() -> None:
    agent = ModelAgent("noprompt", backend=None, use_prompt=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no messages"):
        agent.reply(_state([]))
    with pytest.raises(ValueError, match="role 'user'"):
        agent.reply(_state([{"role": "user", "content": "obs"}, {"role": "assistant", "content": "act"}]))


def test_generation_limits_are_the_envs_own() -> None:
    assert generation_for("os") == {"max_new_tokens": 384, "stop": ("\nThe output of the OS:",)}
    assert generation_for("web")["max_new_tokens"] == generation_for("shop")["max_new_tokens"] == 96
    assert generation_for("no-such-env") == FALLBACK_GENERATION
    with pytest.raises(TypeError, match="not a string"):
        ModelAgent("x", backend=None, use_prompt=False, stop="\n")  # type: ignore[arg-type]
