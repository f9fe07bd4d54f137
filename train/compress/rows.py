"""The conversations a prompt compressor trains on, split at the prompt: gist and ICAE both replace the
prompt's tokens by their compressed form and train on what follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.backends.hf import encode_messages
from envs.core import Message
from train.students.dataset import conversation_views
from train.students.examples import Encoded, encode_chat


def prompt_and_conversations(
    tokenizer: Any, prompt: Sequence[Message], conversations: Sequence[dict[str, Any]]
) -> tuple[list[int], list[Encoded]]:
    """The prompt's ids, and every conversation view encoded behind the prompt. A view in which the prompt
    does not tokenize exactly as it does alone is left out: the compressed form stands for those ids."""
    prompt_ids = encode_messages(tokenizer, prompt, generation=False)
    encoded = []
    for item in conversations:
        if item.get("error"):
            continue
        for messages in conversation_views(item, independent_turns=False):
            ex = encode_chat(tokenizer, list(prompt) + messages, skip=len(prompt))
            if ex.input_ids[: len(prompt_ids)] == prompt_ids:
                encoded.append(ex)
    return prompt_ids, encoded
