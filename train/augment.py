"""Name-swap copies of OS transcripts: the task's own names replaced, consistently, by new pseudo-words.

Why: the OS generator draws directory and file names from a few dozen words, so a small model trained on the
real transcripts learns a prior over those words ("/var/log/gateway.log" for any log question) instead of
copying the path out of the task. In a copy whose names are fresh pseudo-words, no prior can guess them: the
only way to predict the command is to copy from the description. What the copies did in the builds is in
the journal (docs/journal/).

A copy is renamed everywhere at once (description, commands, outputs, answer), so it stays a consistent
transcript of a machine whose files had other names. Only names the task states and a reply repeats are
swapped; system directories, extensions, shell words and short words are kept (see ``KEEP``).

Example::

    rng = random.Random(0)
    copy = renamed_copy(record, rng)     # None when the record names nothing to swap
"""

from __future__ import annotations

import random
import re
from typing import Any

#: Words never swapped: system paths, extensions, shell commands and options, and generic directory words
#: whose meaning a command relies on (``/var/log``, ``*.log``, ``-type``, ``group``...).
KEEP: frozenset[str] = frozenset(
    """the this that with from into than data files file home root srv var opt etc usr local bin tmp log logs
    txt csv conf json yaml tar gz sh py md ini group groups user users size name bash crontab cron yes access
    list count find type print sort head tail grep awk sed echo total line lines config env error warn shared
    box backup backups docs notes archives web report reports only answer number""".split()
)
_WORD = re.compile(r"[a-z]+")
_SYLLABLES: tuple[str, ...] = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")
_TASK_MARK = "My problem is:"


def pseudo_word(rng: random.Random) -> str:
    """A pronounceable 4-6 letter non-word (two or three consonant-vowel syllables)."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))


def swappable_names(record: dict[str, Any]) -> list[str]:
    """Lower-case words of 4+ letters that the task's description states and a reply repeats (not in KEEP)."""
    messages = record["messages"]
    description = messages[0]["content"].split(_TASK_MARK)[-1]
    replies = " ".join(m["content"] for m in messages if m["role"] == "assistant")
    stated, repeated = set(_WORD.findall(description)), set(_WORD.findall(replies))
    return sorted(w for w in stated & repeated if len(w) >= 4 and w not in KEEP)


def renamed_copy(record: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
    """``record`` with every swappable name replaced by a fresh pseudo-word in all its turns, else None."""
    names = swappable_names(record)
    if not names:
        return None
    used = {w for m in record["messages"] for w in _WORD.findall(m["content"])}
    table: dict[str, str] = {}
    for name in names:
        new = pseudo_word(rng)
        while new in used or new in table.values():
            new = pseudo_word(rng)
        table[name] = new
    pattern = re.compile(r"(?<![A-Za-z])(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z])")
    messages = [
        {**m, "content": pattern.sub(lambda found: table[found.group(1)], m["content"])}
        for m in record["messages"]
    ]
    return {**record, "messages": messages, "augmented": "renamed"}


def with_renamed_copies(
    records: list[dict[str, Any]], copies: int, seed: int, env_name: str = "os"
) -> list[dict[str, Any]]:
    """``records`` plus ``copies`` renamed copies of each of ``env_name``'s agent-side records (seeded)."""
    rng = random.Random(seed)
    extra: list[dict[str, Any]] = []
    for record in records:
        if record.get("env") != env_name or record.get("kind") != "agent":
            continue
        for _ in range(copies):
            copy = renamed_copy(record, rng)
            if copy is not None:
                extra.append(copy)
    return [*records, *extra]
