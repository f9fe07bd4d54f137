"""What every OS task family shares: the seeded vocabularies, the :class:`Draft` a family returns, and the
helpers that phrase a question, build its judge and write its init script."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from envs.os_shell.tasks import CheckEval, MatchEval, Script

INT_MATCH = Script(
    "python",
    "import sys\n"
    "try:\n"
    "    ok = int(sys.argv[1].strip()) == int(sys.argv[2].strip())\n"
    "except ValueError:\n"
    "    ok = False\n"
    "sys.exit(0 if ok else 1)\n",
    "int-match",
)

WORDS = (
    "alpha", "bravo", "cedar", "delta", "ember", "falcon", "garnet", "harbor", "indigo", "juniper", "kepler",
    "lumen", "maple", "nova", "orbit", "pixel", "quartz", "raven", "sierra", "tundra", "umber", "vertex",
    "willow", "xenon", "yonder", "zephyr",
)  # fmt: skip

STEMS = (
    "report",
    "notes",
    "data",
    "backup",
    "draft",
    "summary",
    "invoice",
    "photo",
    "config",
    "trace",
    "dump",
)

EXTS = ("log", "txt", "csv", "conf", "json", "py", "sh", "md", "bak", "tmp")

BASES = ("/srv", "/opt", "/var/data", "/root", "/home/shared", "/data")

USERS = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar",
    "peggy", "trent", "victor", "wendy",
)  # fmt: skip

GROUPS = ("developers", "analysts", "ops", "backupers", "auditors", "designers", "testers", "editors")

APPS = ("webapp", "billing", "crawler", "metrics", "chat", "ledger", "relay", "atlas")

NUM_HINTS = ("Answer with the number only.", "Just give me the number.", "Reply with a single integer.")

NAME_HINTS = (
    "Answer with the file name only.",
    "Just tell me the name (no directory).",
    "Reply with the name.",
)


@dataclass(frozen=True)
class Draft:
    """What a family produces; :func:`generate` adds the id and the family name."""

    description: str
    init: str
    reference: str
    evaluation: MatchEval | CheckEval
    expects_answer: bool
    labels: tuple[str, ...]
    start: str | None = None


def answer_draft(
    description: str, init: str, reference: str, expected: object, labels: tuple[str, ...]
) -> Draft:
    return Draft(description, init, reference, MatchEval(answer=str(expected)), True, labels)


def runtime_answer_draft(
    description: str, init: str, reference: str, labels: tuple[str, ...], start: str | None = None
) -> Draft:
    chain = CheckEval(scripts=(None, INT_MATCH), example=Script("bash", reference, "reference"))
    return Draft(description, init, reference, chain, True, labels, start)


def change_draft(
    description: str, init: str, reference: str, check: str, labels: tuple[str, ...], start: str | None = None
) -> Draft:
    chain = CheckEval(scripts=(Script("bash", check, "check"),))
    return Draft(description, init, reference, chain, False, labels, start)


def random_workdir(rng: random.Random) -> str:
    return f"{rng.choice(BASES)}/{rng.choice(WORDS)}{rng.choice(('', '_files', '_data', '-box'))}"


def random_token(rng: random.Random, n: int = 8) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def heredoc(path: str, text: str) -> str:
    return f"cat > {path} <<'PL_EOF'\n{text}PL_EOF"


def phrase(rng: random.Random, templates: tuple[str, ...], hints: tuple[str, ...] = (), **kw: object) -> str:
    text = rng.choice(templates).format(**kw)
    return f"{text} {rng.choice(hints)}" if hints else text


def split_around(rng: random.Random, k: int, low: int, pivot: int, high: int) -> list[int]:
    """``k`` distinct integers from [low, high] minus ``pivot``, with at least one on each side of it."""
    below, above = list(range(low, pivot)), list(range(pivot + 1, high + 1))
    values = [rng.choice(below), rng.choice(above)]
    rest = [v for v in below + above if v not in values]
    values += rng.sample(rest, k - 2)
    rng.shuffle(values)
    return values
