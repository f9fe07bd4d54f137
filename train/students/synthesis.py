"""Stages 1-4 of the student pipeline: pseudo inputs, AS-IS / TO-BE replies, reasons, conversations.

Everything here asks the env (through ``make_env``) and the agent layer, never an env by name, so a user's
own ``TextEnv`` gets the same pipeline. Model calls go through the shared back-ends of ``agents.registry``
from a pool of threads: the local back-end batches concurrent calls, so no stage generates one sequence at
a time. Each stage appends its items as they finish (``train.students.stages``) and works by item keys, not by
a finished flag: a killed synthesis resumes where it stopped, and asking for more inputs or conversations
later only adds the missing ones (a stage's folder does not depend on the counts).

Example::

    inputs = synthesize_inputs(stage, config, make_env)
    outputs = synthesize_outputs(stage, config, model, inputs, prompt)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import gymnasium as gym

from agents.base import EpisodeState
from agents.env_pool import EnvPool
from agents.model_agent import ModelAgent
from agents.registry import get_backend, make_agent
from agents.rollout import episode_seed, run_episode
from envs.core import Message, text_env
from train.oracle_episodes import END_CONVERSATION, env_side_prompt
from train.students.config import StudentConfig
from train.students.examples import prompt_text
from train.students.reasons import explain
from train.students.stages import Stage

EnvMaker = Callable[[], gym.Env]
#: Concurrent model calls per stage: enough to fill the local back-end's batches.
WORKERS = 8
#: Concurrent real-env episodes (each OS episode holds a container).
ENV_WORKERS = 4
#: Token limit of one invented observation in self role-play.
ENV_TURN_TOKENS = 384

#: The paper's recipe for inventing inputs, in our words: the prompt, five examples, ten new ones.
INPUT_REQUEST = (
    "Below is the fixed context an agent receives, then five example task inputs it was given. Write ten "
    "new task inputs of the same kind and format, different from the examples and from each other, as a "
    "numbered list (1. to 10.), one input per item, nothing else.\n\nContext:\n{prompt}\n\nExamples:\n{examples}"
)
_NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+(.+?)\s*$")


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _pool_map(fn: Callable[[Any], dict[str, Any]], todo: Iterable[Any], write: Callable, workers: int) -> int:
    """Run ``fn`` on every item from a thread pool, writing each result as it finishes; returns the count."""
    n = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fn, item) for item in todo]
        for future in as_completed(futures):
            write(future.result())
            n += 1
    return n


# --------------------------------------------------------------------------------------------- 1. inputs
def synthesize_inputs(stage: Stage, config: StudentConfig, make_env: EnvMaker) -> list[dict[str, Any]]:
    """About ``n_inputs`` pseudo inputs without duplicates: the env's train tasks' first observations, or
    inputs invented by ``input_model`` from the prompt and five of those observations."""
    if config.inputs == "generator":
        ids = _inputs_from_env(stage, config, make_env)
        by_key = {item["key"]: item for item in stage.items()}
        items = [by_key[i] for i in ids if i in by_key and not by_key[i].get("duplicate")]
    else:
        _inputs_from_llm(stage, config, make_env)
        items = stage.items()[: config.n_inputs]
    stage.finish()
    return items


def _wanted(items: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """The stage's items for ``keys``, in that order (a stage may hold more, made for a larger request)."""
    by_key = {item["key"]: item for item in items}
    return [by_key[k] for k in keys if k in by_key]


def _inputs_from_env(stage: Stage, config: StudentConfig, make_env: EnvMaker) -> list[str]:
    """First observations of the env's first ``n_inputs`` train tasks, reset from ``ENV_WORKERS`` envs at
    once (an OS reset starts a container), written in task order so that which of two duplicates is kept
    never varies; a duplicate is written as such, so that it is not played again. Returns the task ids."""
    probe = make_env()
    ids = text_env(probe).task_ids()[: config.n_inputs]
    probe.close()
    seen = {item["input"] for item in stage.items() if not item.get("duplicate")}
    done = stage.done_keys()

    def first_observation(task_id: str) -> str:
        env = envs_.take()
        obs, _ = env.reset(seed=episode_seed(config.seed, config.env, task_id), options={"task_id": task_id})
        envs_.give_back(env)
        return obs

    todo = [task_id for task_id in ids if task_id not in done]
    with EnvPool(make_env) as envs_, stage.writer() as write, ThreadPoolExecutor(ENV_WORKERS) as pool:
        for task_id, obs in zip(todo, pool.map(first_observation, todo), strict=True):
            if obs in seen:  # exact duplicates are dropped, as the paper does
                write({"key": task_id, "task_id": task_id, "duplicate": True})
                continue
            seen.add(obs)
            write({"key": task_id, "task_id": task_id, "input": obs})
    return list(ids)


def _inputs_from_llm(stage: Stage, config: StudentConfig, make_env: EnvMaker) -> None:
    env = make_env()
    try:
        prompt = text_env(env).prompt_messages()
        examples = []
        for task_id in text_env(env).task_ids()[:5]:
            obs, _ = env.reset(seed=0, options={"task_id": task_id})
            examples.append(obs)
    finally:
        env.close()
    assert config.input_model is not None
    backend = get_backend(config.input_model)
    listed = "\n".join(f"{i + 1}. {e}" for i, e in enumerate(examples))
    request = INPUT_REQUEST.format(prompt=prompt_text(prompt), examples=listed)
    seen = {item["input"] for item in stage.items()} | set(examples)
    rounds = 0
    max_rounds = config.n_inputs // (10 * WORKERS) + 3  # ten inputs per answer; room for duplicates

    def ask(i: int) -> str:
        message: Message = {"role": "user", "content": f"{request}\n\n(Request {i}.)"}
        return backend.generate([message], max_new_tokens=1024, stop=[]).text

    with stage.writer() as write:
        while len(seen) - len(examples) < config.n_inputs and rounds < max_rounds:
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                answers = list(pool.map(ask, range(rounds * WORKERS, (rounds + 1) * WORKERS)))
            rounds += 1
            for text in answers:
                for line in text.splitlines():
                    match = _NUMBERED.match(line)
                    if match and match.group(1) not in seen and len(seen) - len(examples) < config.n_inputs:
                        seen.add(match.group(1))
                        write({"key": _key(match.group(1)), "task_id": None, "input": match.group(1)})


# -------------------------------------------------------------------------------------------- 2. outputs
def synthesize_outputs(
    stage: Stage,
    config: StudentConfig,
    model: str,
    inputs: Sequence[dict[str, Any]],
    prompt: Sequence[Message],
    backend_options: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The base model's greedy first reply to each input, without (AS-IS) and with (TO-BE) the prompt."""
    keys = [i["key"] for i in inputs]
    done = stage.done_keys()
    if all(k in done for k in keys):
        return _wanted(stage.items(), keys)
    agent = make_agent("teacher", env_name=config.env, model=model, **(backend_options or {}))
    if not isinstance(agent, ModelAgent):
        raise TypeError(f"the teacher for {config.env!r} is not a model agent: {agent!r}")

    def answer(item: dict[str, Any]) -> dict[str, Any]:
        first: list[Message] = [{"role": "user", "content": item["input"]}]
        limit, stop = agent.max_new_tokens, list(agent.stop)
        as_is = agent.backend.generate(first, max_new_tokens=limit, stop=stop).text
        to_be = agent.backend.generate(list(prompt) + first, max_new_tokens=limit, stop=stop).text
        return {**item, "as_is": as_is, "to_be": to_be}

    with stage.writer() as write:
        _pool_map(answer, [i for i in inputs if i["key"] not in done], write, WORKERS)
    stage.finish()
    return _wanted(stage.items(), keys)


# -------------------------------------------------------------------------------------------- 3. reasons
def synthesize_reasons(
    stage: Stage,
    config: StudentConfig,
    outputs: Sequence[dict[str, Any]],
    prompt: Sequence[Message],
) -> list[dict[str, Any]]:
    """A reason per input: why the reply changed with the prompt. The reason model, when given, answers
    the paper's commentator question; otherwise ``train.students.reasons.explain`` states it."""
    keys = [o["key"] for o in outputs]
    done = stage.done_keys()
    todo = [o for o in outputs if o["key"] not in done]
    if not todo:
        return _wanted(stage.items(), keys)
    if config.reason_model:
        backend = get_backend(config.reason_model)
        context = prompt_text(prompt)

        def reason(item: dict[str, Any]) -> dict[str, Any]:
            question = (
                f"Context:\n{context}\n\nInput:\n{item['input']}\n\nOutput without the context:\n{item['as_is']}"
                f"\n\nOutput with the context:\n{item['to_be']}\n\nIn about five sentences, explain why the output "
                "changed when the context was given, citing the parts of the context responsible."
            )
            text = backend.generate([{"role": "user", "content": question}], max_new_tokens=256, stop=[]).text
            return {"key": item["key"], "reason": text.strip(), "source": "model"}

        with stage.writer() as write:
            _pool_map(reason, todo, write, WORKERS)
    else:
        with stage.writer() as write:
            for item in todo:
                text = explain(config.env, config.variant, prompt, item["as_is"], item["to_be"])
                write({"key": item["key"], "reason": text, "source": "explainer"})
    stage.finish(source="model" if config.reason_model else "explainer")
    return _wanted(stage.items(), keys)


# --------------------------------------------------------------------------------------- 4. conversations
def synthesize_conversations(
    stage: Stage,
    config: StudentConfig,
    model: str,
    inputs: Sequence[dict[str, Any]],
    make_env: EnvMaker,
    backend_options: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The prompted teacher's conversations on the first ``n_conversations`` inputs: in the real env
    (``env``), or against the same base model playing the environment (``roleplay``)."""
    chosen = list(inputs)[: config.n_conversations]
    keys = [item["key"] for item in chosen]
    done = stage.done_keys()
    todo = [item for item in chosen if item["key"] not in done]
    if not todo:
        return _wanted(stage.items(), keys)
    teacher = make_agent("teacher", env_name=config.env, model=model, **(backend_options or {}))
    probe = make_env()
    prompt = list(text_env(probe).prompt_messages())
    independent = bool(text_env(probe).independent_turns)
    probe.close()
    with stage.writer() as write:
        if config.conversations == "env":
            _env_conversations(todo, config, teacher, make_env, write)
        else:
            _roleplay_conversations(todo, config, teacher, prompt, write)
    stage.finish(independent_turns=independent)
    return _wanted(stage.items(), keys)


def _env_conversations(
    todo: Sequence[dict[str, Any]], config: StudentConfig, teacher: Any, make_env: EnvMaker, write: Callable
) -> None:
    def play(item: dict[str, Any]) -> dict[str, Any]:
        env = envs_.take()
        task_id = item["task_id"]
        outcome = run_episode(
            env,
            teacher,
            env_name=config.env,
            task_id=task_id,
            seed=episode_seed(config.seed, config.env, task_id),
        )
        envs_.give_back(env, reusable=outcome.env_ok)
        record = outcome.record
        messages = [{"role": t["role"], "content": t["content"]} for t in record.transcript]
        return {"key": item["key"], "messages": messages, "score": record.score, "error": record.error}

    with EnvPool(make_env) as envs_:
        _pool_map(play, todo, write, ENV_WORKERS)


def environment_view(instruction: Sequence[Message], messages: Sequence[Message]) -> list[Message]:
    """The conversation as the model playing the environment sees it: its instruction, then the agent's
    conversation with the roles swapped (observations become its own turns, the agent's replies its input)."""
    swapped: list[Message] = [
        {"role": "assistant" if m["role"] == "user" else "user", "content": m["content"]} for m in messages
    ]
    return list(instruction) + swapped


def _roleplay_conversations(
    todo: Sequence[dict[str, Any]],
    config: StudentConfig,
    teacher: Any,
    prompt: list[Message],
    write: Callable,
) -> None:
    """Self role-play: the teacher answers; the same model, told to act as the environment of the prompt
    (the instruction the base model was trained on for that side), writes each next observation from the
    conversation with the roles swapped, until it ends the conversation or the turn limit is reached."""
    env_instruction = env_side_prompt(config.env, prompt)

    def play(item: dict[str, Any]) -> dict[str, Any]:
        messages: list[Message] = [{"role": "user", "content": item["input"]}]
        ended = False
        for turn in range(config.roleplay_turns):
            state = EpisodeState(
                env_name=config.env, task_id=item["key"], prompt=prompt, messages=list(messages)
            )
            messages.append({"role": "assistant", "content": teacher.reply(state).text})
            if turn == config.roleplay_turns - 1:
                break
            observation = teacher.backend.generate(
                environment_view(env_instruction, messages), max_new_tokens=ENV_TURN_TOKENS, stop=[]
            ).text
            ended = END_CONVERSATION in observation
            observation = observation.split(END_CONVERSATION)[0].strip()
            if ended or not observation:
                break
            messages.append({"role": "user", "content": observation})
        return {"key": item["key"], "messages": messages, "score": None, "ended": ended, "error": None}

    _pool_map(play, todo, write, WORKERS)
