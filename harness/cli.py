"""``promptless COMMAND ...``: one console entry point for the project's commands.

Each command is the module's own ``main`` (``python -m harness.run`` and ``promptless run`` are the same
program), imported only when called so that ``promptless --help`` is instant.

Example::

    promptless run --agent gcd --env shop
    promptless train --method gcd --env shop
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: command -> (module with ``main(argv)``, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("harness.run", "run an agent on the envs' tasks"),
    "train": ("harness.train", "train prompt-free student adapters"),
    "agreement": (
        "harness.agreement",
        "replay a teacher run without the prompt and score a student's agreement",
    ),
    "leaderboard": ("harness.leaderboard", "write results/leaderboard.csv and its plot from the runs"),
    "view": ("harness.view", "write one static HTML page of runs: settings, scores, transcripts"),
    "serve": ("agents.serve", "serve a local model or student over the OpenAI-compatible API"),
    "bootstrap": ("train.bootstrap", "rebuild the embedded default model from scratch"),
}


def usage() -> str:
    lines = ["usage: promptless COMMAND [ARGS ...]", "", "commands:"]
    lines += [f"  {name:<12} {description}" for name, (_, description) in COMMANDS.items()]
    lines += ["", "promptless COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"promptless: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
