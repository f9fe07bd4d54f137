"""Keep/drop labels for the prompt's words, from what deleting them does to the teacher's own replies.

LLMLingua-2 labels words by a strong LLM's word-deletion compression. Here the judge is the teacher itself:

1. Samples: the first round (observation, reply) of ``label_samples`` teacher conversations of the train
   split (the students' ``conversations`` stage), each scored as the mean NLL per reply token after the full
   prompt (``base``).
2. Deletions: every word of every prompt message (words as the classifier's tokenizer splits them); when
   there are more than ``max_deletions``, adjacent words of a message are deleted together in equal groups
   (the cost bound on a 2-core CPU), and every word of a group gets the group's score.
3. A word's score is the mean over samples of (NLL after the prompt without it) - ``base``: how much worse
   the teacher's replies become. Its label is keep (1) when the score exceeds ``keep_threshold``: a word whose
   deletion leaves the replies (nearly) as likely as before is dropped.
4. Forced words: prompt words that appear in at least ``force_share`` of the teacher's replies (the action
   keywords and format markers every reply repeats) plus the line break; always labelled keep, and handed to
   the package as its ``force_tokens`` at run time.

Example::

    labelled = label_prompt(model, base_tokenizer, clf_tokenizer, prompt, samples, config)
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from envs.core import Message
from train.compress.config import CompressConfig
from train.students.examples import IGNORE, encode_chat

LINE_BREAK = "\n"


@dataclass(frozen=True)
class LabelledMessage:
    """One prompt message's words (character spans into ``text``) with their labels and scores."""

    text: str
    spans: list[tuple[int, int]]
    labels: list[int]
    scores: list[float]


def word_spans(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    """Character spans of ``text``'s words as the classifier's tokenizer splits them."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    spans: dict[int, tuple[int, int]] = {}
    for word, (a, b) in zip(enc.word_ids(), enc["offset_mapping"], strict=True):
        if word is None:
            continue
        s, e = spans.get(word, (a, b))
        spans[word] = (min(s, a), max(e, b))
    return [spans[w] for w in sorted(spans)]


def first_rounds(conversations: Sequence[dict[str, Any]], n: int) -> list[list[Message]]:
    """The first (observation, reply) pair of up to ``n`` error-free teacher conversations."""
    out: list[list[Message]] = []
    for item in conversations:
        messages = [m for m in item.get("messages", []) if m.get("content") is not None]
        if item.get("error") or len(messages) < 2 or messages[1]["role"] != "assistant":
            continue
        out.append(messages[:2])
        if len(out) == n:
            break
    return out


def forced_words(prompt: Sequence[Message], replies: Sequence[str], share: float) -> list[str]:
    """Prompt words found (as whole words) in at least ``share`` of ``replies``, most frequent first."""
    prompt_words = set(re.findall(r"\w+", " ".join(m["content"] for m in prompt)))
    counts: Counter[str] = Counter()
    for reply in replies:
        counts.update(set(re.findall(r"\w+", reply)) & prompt_words)
    need = max(1, math.ceil(share * len(replies)))
    return [LINE_BREAK] + [w for w, c in counts.most_common() if c >= need]


def _reply_nll(model: Any, tokenizer: Any, conversations: list[list[Message]], n_prompt: int) -> torch.Tensor:
    """Mean NLL per reply token of each conversation (prompt messages first, ``n_prompt`` of them)."""
    encoded = [encode_chat(tokenizer, c, skip=n_prompt) for c in conversations]
    width = max(len(e.input_ids) for e in encoded)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    labels = torch.full((len(encoded), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for i, e in enumerate(encoded):
        ids[i, : len(e.input_ids)] = torch.tensor(e.input_ids)
        labels[i, : len(e.labels)] = torch.tensor(e.labels)
        mask[i, : len(e.input_ids)] = 1
    device = next(model.parameters()).device
    with torch.inference_mode():
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
    target = labels[:, 1:].to(device)
    nll = torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), target.clamp(min=0), reduction="none"
    )
    valid = (target != IGNORE).float()
    return ((nll * valid).sum(1) / valid.sum(1).clamp(min=1)).cpu()


def label_prompt(
    model: Any,
    tokenizer: Any,
    clf_tokenizer: Any,
    prompt: Sequence[Message],
    samples: Sequence[list[Message]],
    config: CompressConfig,
    batch_size: int = 8,
) -> tuple[list[LabelledMessage], list[str]]:
    """Labels of every prompt word (see the module docstring) and the forced words."""
    if not samples:
        raise ValueError("no teacher reply to label the prompt with: the conversations stage is empty")
    prompt = [m.copy() for m in prompt]
    forced = forced_words(prompt, [s[1]["content"] for s in samples], config.force_share)
    n_prompt = len(prompt)
    base = _reply_nll(model, tokenizer, [list(prompt) + list(s) for s in samples], n_prompt)
    spans = [word_spans(clf_tokenizer, m["content"]) for m in prompt]
    group = max(1, math.ceil(sum(len(s) for s in spans) / config.max_deletions))
    deletions = [
        (mi, i, min(i + group, len(s))) for mi, s in enumerate(spans) for i in range(0, len(s), group)
    ]
    scores_per_deletion: list[float] = []
    per_batch = max(1, batch_size // len(samples))  # deletions per forward pass
    for start in range(0, len(deletions), per_batch):
        chunk = deletions[start : start + per_batch]
        batch: list[list[Message]] = []
        for mi, a, b in chunk:
            text = prompt[mi]["content"]
            cut = text[: spans[mi][a][0]] + text[spans[mi][b - 1][1] :]
            edited: list[Message] = [
                *prompt[:mi],
                {"role": prompt[mi]["role"], "content": cut},
                *prompt[mi + 1 :],
            ]
            batch.extend(edited + list(s) for s in samples)
        nll = _reply_nll(model, tokenizer, batch, n_prompt).view(len(chunk), len(samples))
        scores_per_deletion.extend((nll - base).mean(1).tolist())
    forced_set = set(forced)
    out: list[LabelledMessage] = []
    for mi, message_spans in enumerate(spans):
        text = prompt[mi]["content"]
        scores = [0.0] * len(message_spans)
        for (dm, a, b), score in zip(deletions, scores_per_deletion, strict=True):
            if dm == mi:
                for w in range(a, b):
                    scores[w] = score
        labels = [
            int(score > config.keep_threshold or text[a:b] in forced_set)
            for score, (a, b) in zip(scores, message_spans, strict=True)
        ]
        out.append(LabelledMessage(text, message_spans, labels, scores))
    return out, forced
