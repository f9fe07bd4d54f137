"""Oracle episodes and the training records written from them.

The env's oracle is played once per task by the project's one rollout and its replies rendered under every
prompt variant (``play_oracle_variants``). Each episode becomes what the agent sees (``agent_records``) and,
for GCD-style self role-play, the same episode from the environment's side (``env_record``). The corpus of
the default model (``train.corpus``), the held-out probe (``train.probe``) and the students' synthesis
(``train.students.synthesis``, which reuses the env-side instruction) read these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents.base import EpisodeState, Reply, Usage
from agents.rollout import run_episode
from envs.core import Message, text_env

END_CONVERSATION = "[END_CONVERSATION]"

ENV_TITLES: dict[str, str] = {"os": "Linux shell", "web": "web browsing", "shop": "web shop"}


@dataclass(frozen=True)
class Episode:
    """One oracle episode: the agent-side turns, the final observation and the score."""

    env: str
    variant: str
    task_id: str
    prompt: list[dict[str, str]]
    messages: list[dict[str, str]]
    final_observation: str
    score: float
    independent_turns: bool = False  # the env's rounds are separate queries (see envs.core.TextEnv)


def play_oracle(env: Any, task_id: str, seed: int, env_name: str, variant: str) -> Episode:
    """Play one real episode with the env's oracle: reset, then reply and step until it ends."""
    return play_oracle_variants(env, task_id, seed, env_name, (variant,))[0]


def play_oracle_variants(
    env: Any, task_id: str, seed: int, env_name: str, variants: Sequence[str]
) -> list[Episode]:
    """Play one real episode in ``env`` (its own variant) and write it under each of ``variants``.

    An env's observations do not depend on the prompt variant, only its replies do, so the episode is played
    once, by the project's one rollout (``agents.rollout.run_episode``), with an oracle that renders each
    reply in every variant (``VariantOracle``); the env is stepped with the reply of its own variant. Playing
    once instead of once per variant cuts the corpus's Docker time by the number of variants; a test checks
    that every variant parses back to the same actions. An episode that fails raises ``RuntimeError``.
    """
    oracle = VariantOracle(env, variants)
    record = run_episode(env, oracle, env_name=env_name, task_id=task_id, seed=seed).record
    if record.error:
        raise RuntimeError(record.error)
    last_reply = max(i for i, turn in enumerate(record.transcript) if turn["role"] == "assistant")
    turns = record.transcript[: last_reply + 1]
    final = record.transcript[-1]["content"] if last_reply < len(record.transcript) - 1 else ""
    independent = bool(getattr(env.unwrapped, "independent_turns", False))
    episodes = []
    for v in variants:
        replies = iter(oracle.replies[v])
        messages = [
            {"role": t["role"], "content": next(replies) if t["role"] == "assistant" else t["content"]}
            for t in turns
        ]
        episodes.append(
            Episode(env_name, v, task_id, oracle.prompts[v], messages, final, record.score, independent)
        )
    return episodes


class VariantOracle:
    """The task's oracle as a rollout agent that also renders every reply under each of ``variants``.

    At each turn the env's ``prompt_variant`` is switched around the oracle's call (the oracle reads the
    privileged state, which switching leaves alone); the renders go to ``replies`` and the variants' prompts,
    read after the reset, to ``prompts``. The env is stepped with the reply of the variant it was made with."""

    name = "oracle"

    def __init__(self, env: Any, variants: Sequence[str]):
        self.base = text_env(env)
        self.variants = tuple(variants)
        self.played = self.base.prompt_variant
        self.replies: dict[str, list[str]] = {v: [] for v in self.variants}
        self.prompts: dict[str, list[dict[str, str]]] = {}

    def _as(self, variant: str, read: Callable[[], Any]) -> Any:
        self.base.prompt_variant = variant
        try:
            return read()
        finally:
            self.base.prompt_variant = self.played

    def reply(self, state: EpisodeState) -> Reply:
        if not self.prompts:
            self.prompts = {v: list(self._as(v, self.base.prompt_messages)) for v in self.variants}
        for v in self.variants:
            self.replies[v].append(self._as(v, self.base.oracle_reply))
        own = self.replies[self.played][-1] if self.played in self.replies else self.base.oracle_reply()
        return Reply(text=own, usage=Usage())


def agent_records(ep: Episode) -> list[dict[str, Any]]:
    """What the agent sees, as the runner shows it: the whole episode, or one record per round when the env's
    rounds are independent queries (each round's observation and reply only)."""
    if ep.independent_turns:
        conversations = [ep.messages[i : i + 2] for i in range(0, len(ep.messages), 2)]
    else:
        conversations = [ep.messages]
    base = {"env": ep.env, "variant": ep.variant, "task_id": ep.task_id, "kind": "agent", "score": ep.score}
    return [{**base, "prompt": ep.prompt, "messages": messages} for messages in conversations]


def env_side_prompt(env_name: str, agent_prompt: Sequence[Mapping[str, Any]]) -> list[Message]:
    """The instruction that makes the model play ``env_name``'s environment for an agent given ``agent_prompt``."""
    shown = "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in agent_prompt)
    title = ENV_TITLES.get(env_name, env_name)
    text = (
        f"Act as the {title} environment of the conversation below. The agent received the instructions "
        "that follow. The agent's messages will be your input; answer each with exactly the observation "
        "the environment returns, in the format the instructions show. When the episode is over, give the "
        f"last observation and end the conversation with {END_CONVERSATION}.\n\n"
        f"The agent's instructions:\n\n{shown}\n\nStart the episode: give the first observation."
    )
    return [{"role": "user", "content": text}]


def env_record(ep: Episode) -> dict[str, Any]:
    """The same episode from the environment's side: observations become the assistant turns."""
    swapped = [
        {"role": "assistant" if m["role"] == "user" else "user", "content": m["content"]} for m in ep.messages
    ]
    final = f"{ep.final_observation}\n{END_CONVERSATION}".lstrip("\n")
    swapped.append({"role": "assistant", "content": final})
    return {
        "env": ep.env,
        "variant": ep.variant,
        "task_id": ep.task_id,
        "kind": "env",
        "score": ep.score,
        "prompt": env_side_prompt(ep.env, ep.prompt),
        "messages": swapped,
    }
