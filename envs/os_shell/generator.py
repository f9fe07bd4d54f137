"""Seeded families of OS tasks: the project's own, unlimited source of shell problems.

Each family is a function of a ``random.Random`` that returns a :class:`Draft`: a natural-language
description (2-3 phrasings per question), a bash init script that builds the state with seeded content, a short
idiomatic reference solution (a one-liner a small model can learn), and a judge. A question's expected answer
is known exactly from generation when the generated state fixes it (judged by ``match``); when it depends on the
running system (a PID, a ``du`` size) the judge is a check chain that runs the reference in the agent's container
after the episode and compares, as AgentBench's own items do. A requested change (finish-type task) is judged
by a check script. Families are picked round-robin by index, so every split covers all of them evenly.

Example::

    from envs.os_shell.generator import FAMILIES, generate

    task = generate("os-test-0003", seed=3, index=3)   # the family FAMILY_NAMES[3 % len(FAMILIES)]
    print(task.description, task.reference)
"""

from __future__ import annotations

import random
from collections.abc import Callable

from envs.os_shell.families.common import Draft
from envs.os_shell.families.files import (
    archive_count,
    archive_extract,
    count_by_extension,
    create_files,
    disk_usage,
    find_by_mtime,
    find_by_size,
    hidden_files,
    largest_file,
    symlinks,
)
from envs.os_shell.families.system import (
    create_user,
    cron_jobs,
    env_vars,
    group_members,
    permissions_change,
    permissions_find,
    processes,
)
from envs.os_shell.families.text import (
    awk_sum,
    distinct_values,
    line_word_count,
    log_grep,
    nth_line,
    sed_edit,
)
from envs.os_shell.tasks import OSTask, Script

#: Family name -> generator, in the fixed order that indices cycle through (append only: order is versioned).
FAMILIES: dict[str, Callable[[random.Random], Draft]] = {
    "count_by_extension": count_by_extension,
    "find_by_size": find_by_size,
    "find_by_mtime": find_by_mtime,
    "log_grep": log_grep,
    "distinct_values": distinct_values,
    "awk_sum": awk_sum,
    "group_members": group_members,
    "create_user": create_user,
    "permissions_change": permissions_change,
    "permissions_find": permissions_find,
    "processes": processes,
    "disk_usage": disk_usage,
    "archive_count": archive_count,
    "archive_extract": archive_extract,
    "env_vars": env_vars,
    "cron_jobs": cron_jobs,
    "line_word_count": line_word_count,
    "largest_file": largest_file,
    "symlinks": symlinks,
    "hidden_files": hidden_files,
    "sed_edit": sed_edit,
    "nth_line": nth_line,
    "create_files": create_files,
}
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)


def generate(task_id: str, seed: int | str, index: int) -> OSTask:
    """Build the task of family ``FAMILY_NAMES[index % n]`` from ``random.Random(seed)``."""
    family = FAMILY_NAMES[index % len(FAMILY_NAMES)]
    draft = FAMILIES[family](random.Random(seed))
    return OSTask(
        id=task_id,
        description=draft.description,
        evaluation=draft.evaluation,
        init=(Script("bash", draft.init, "init"),),
        start=draft.start,
        reference=draft.reference,
        expects_answer=draft.expects_answer,
        labels=(family, *draft.labels),
        family=family,
        source="generated",
    )
