"""Training examples as token ids with loss masks, built from chat messages with the model's own template.

Why offsets: a chat template decides where each turn's tokens start, and it differs between models. The
conversation is rendered once; each assistant turn's character span is found by rendering the conversation
up to that turn, and the tokens whose characters fall in a span are the ones the loss trains. Messages
before ``skip`` (an in-context prompt) are never trained.

Example::

    ex = encode_chat(tokenizer, messages)                  # SFT on every assistant turn
    ex = encode_chat(tokenizer, prompt + messages, skip=len(prompt))
    pg = pg_example(tokenizer, prompt, input, as_is, to_be, reason, max_len)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.backends.hf import render_messages
from envs.core import Message

IGNORE = -100

#: The prompt-generation question (our wording of the paper's): the input, the output without the context
#: and the output with it; the answer is the whole context and then the reason.
PG_INSTRUCTION = (
    "When a certain Context and Input were given together, the Bad Output changed to the Good Output. Guess "
    "which Context was given, then explain the change.\n\nInput:\n{input}\n\nBad Output:\n{bad}\n\nGood Output:\n"
    "{good}"
)
PG_ANSWER = "Context:\n{context}\n\nReason:\n{reason}"


def prompt_text(prompt: Sequence[Message]) -> str:
    """The prompt as one text (each turn under its role), the form the PG loss generates in full."""
    return "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in prompt)


class TooLong(ValueError):
    """An example does not fit the model's context."""


@dataclass(frozen=True)
class Encoded:
    """Token ids and labels (``IGNORE`` where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]

    @property
    def trained(self) -> list[int]:
        """Positions whose token is trained."""
        return [i for i, label in enumerate(self.labels) if label != IGNORE]


def encode_chat(tokenizer: object, messages: Sequence[Message], skip: int = 0) -> Encoded:
    """Ids of the whole conversation; labels on the assistant turns from message ``skip`` on."""
    text = render_messages(tokenizer, messages)
    spans = []
    for k, message in enumerate(messages):
        if k >= skip and message["role"] == "assistant":
            start = len(render_messages(tokenizer, messages[:k], generation=True))
            end = len(render_messages(tokenizer, messages[: k + 1]))
            spans.append((start, end))
    plain = not getattr(tokenizer, "chat_template", None)
    enc = tokenizer(text, add_special_tokens=plain, return_offsets_mapping=True)  # type: ignore[operator]
    ids: list[int] = enc["input_ids"]
    labels = [IGNORE] * len(ids)
    for i, (a, b) in enumerate(enc["offset_mapping"]):
        if b > a and any(s <= a < e for s, e in spans):
            labels[i] = ids[i]
    return Encoded(ids, labels)


def pg_example(
    tokenizer: object,
    prompt: Sequence[Message],
    input_text: str,
    as_is: str,
    to_be: str,
    reason: str,
    max_len: int,
) -> Encoded:
    """The prompt-generation example: the answer (the whole prompt, then the reason) is never cut. When the
    example is too long, the question's three fields are shortened instead; when even the answer alone does
    not fit, ``TooLong`` says by how much."""
    answer = PG_ANSWER.format(context=prompt_text(prompt), reason=reason)
    fields = [input_text, as_is, to_be]
    for _ in range(12):
        question = PG_INSTRUCTION.format(input=fields[0], bad=fields[1], good=fields[2])
        ex = encode_chat(
            tokenizer, [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        )
        if len(ex.input_ids) <= max_len:
            return ex
        if not any(fields):
            break
        fields = [f[: len(f) // 2] for f in fields]
    raise TooLong(
        f"the prompt-generation target (the whole prompt and its reason) takes {len(ex.input_ids)} tokens with "
        f"an empty question, more than the model's context of {max_len}; the prompt is never cut"
    )


def aligned_positions(student: Encoded, teacher: Encoded) -> tuple[list[int], list[int]] | None:
    """Positions whose logits predict each trained token, in the student's and the teacher's sequence, when
    both train the same tokens in the same order (the KL term compares them); None when they differ."""
    s, t = student.trained, teacher.trained
    if (
        [student.input_ids[i] for i in s] != [teacher.input_ids[i] for i in t]
        or not s
        or s[0] == 0
        or t[0] == 0
    ):
        return None
    return [i - 1 for i in s], [i - 1 for i in t]
