"""The deterministic explainer: why a reply changed when the prompt was in context, in plain sentences.

The GCD paper asks a strong model for this reason; the embedded model cannot write one, so without a
``--reason-model`` the pipeline states what can be read off the two replies: whether each is in the
prompt's reply format (judged by the env's own parser), which action each names, and the prompt's lines
that mention the action the prompted reply took. The sentences are facts about the pair, never invented.

Example::

    explain("shop", "agentbench", prompt, as_is="buy it", to_be="Thought:\\n...\\n\\nAction:\\nsearch[tea]")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from envs import reply_parser
from envs.core import Message

_WORD = re.compile(r"[A-Za-z_][A-Za-z_-]{2,}")


def _parser(env_name: str) -> Callable[[str, str], Any] | None:
    try:
        return reply_parser(env_name)
    except (ValueError, ModuleNotFoundError, AttributeError):
        return None  # a user's env without a protocol module: the reason then compares the texts only


def _judge(parse: Callable[[str, str], Any] | None, reply: str, variant: str) -> tuple[bool | None, str]:
    if parse is None:
        return None, ""
    try:
        return True, str(parse(reply, variant))
    except Exception as exc:  # the parsers raise ValueError subclasses; any failure means "not parsable"
        return False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _action_word(action: str) -> str:
    match = _WORD.search(action)
    return match.group(0) if match else ""


def explain(env_name: str, variant: str, prompt: Sequence[Message], as_is: str, to_be: str) -> str:
    """About five sentences on how ``to_be`` (with the prompt) differs from ``as_is`` (without it)."""
    parse = _parser(env_name)
    ok_bad, bad = _judge(parse, as_is, variant)
    ok_good, good = _judge(parse, to_be, variant)
    sentences = []
    if ok_bad is None:
        same = as_is.strip() == to_be.strip()
        sentences.append("The two outputs are the same." if same else "The output changed with the context.")
    else:
        sentences.append(
            f"Without the context the output {'names the action ' + bad if ok_bad else 'is not a valid reply: ' + bad}."
        )
        sentences.append(
            f"With the context the output {'names the action ' + good if ok_good else 'is still not a valid reply: ' + good}."
        )
        if ok_good and not ok_bad:
            sentences.append("The context defines the reply format that the good output follows.")
    word = _action_word(good) if ok_good else ""
    if word:
        text = "\n".join(m["content"] for m in prompt)
        lines = [line.strip() for line in text.splitlines() if word.lower() in line.lower() and line.strip()]
        for line in lines[:2]:
            sentences.append(f'The context says: "{line[:200]}".')
    first_line = next((line for line in to_be.splitlines() if line.strip()), "")
    if first_line:
        sentences.append(
            f'The good output opens with "{first_line.strip()[:120]}", as the context\'s examples do.'
        )
    return " ".join(sentences)
