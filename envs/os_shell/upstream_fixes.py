"""Known bugs in AgentBench's OS data, and the fix promptless applies to each when it judges an episode.

Upstream files are used as published (the cache holds them byte for byte, checked by sha256); a bug that makes
an item unjudgeable is not patched into a copy but listed here, with the reason, and fixed at judging time.
The judge reports every fix it applied (``Judgement.fixes``, ``info["upstream_fixes"]`` at the end of an OS
episode), so a score that depended on a fix says so.

A fix names the exact upstream script it repairs (its sha256), and a list of text replacements that must each
match once; a script that differs from the one described is left alone, so a fix never lands on a changed
upstream file by accident.

Example::

    from envs.os_shell.upstream_fixes import fix_script

    script, applied = fix_script(script)   # applied: ("agentbench-os/size-match-decimal",) or ()
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from envs.os_shell.tasks import CheckEval, OSTask, Script


@dataclass(frozen=True)
class UpstreamFix:
    """One known bug of an upstream script and the text replacements that repair it."""

    id: str
    script: str  # the script's path under the data set's scripts/ folder, as the task file names it
    sha256: str  # of the script as published (UTF-8 text)
    reason: str
    replacements: tuple[tuple[str, str], ...]

    def applies_to(self, script: Script) -> bool:
        return script.name == self.script and hashlib.sha256(script.code.encode()).hexdigest() == self.sha256

    def apply(self, script: Script) -> Script:
        code = script.code
        for old, new in self.replacements:
            if code.count(old) != 1:
                raise ValueError(f"upstream fix {self.id}: expected one {old!r} in {self.script}")
            code = code.replace(old, new)
        return replace(script, code=code)


#: The upstream-bug list. Add an entry here (never an edited copy of the data) when a published script is wrong.
UPSTREAM_FIXES: tuple[UpstreamFix, ...] = (
    UpstreamFix(
        id="agentbench-os/size-match-decimal",
        script="check/size-match.py",
        sha256="b0d6ed977b4802f01725edd90c96f056021a75fe09ebf890a1a3a01dfc934b29",
        reason=(
            "the script parses sizes with int(), but `du -sh` prints small sizes with a decimal ('8.0K'), so "
            "it raises ValueError on the reference output and dev item 8 fails whatever the answer; float() "
            "compares the same sizes without crashing"
        ),
        replacements=(
            (
                "            return int(size_str[:-len(size_unit)]) * availables[size_unit]\n",
                '            # promptless fix: du -h prints decimals ("8.0K"); upstream\'s int() crashed on them.\n'
                "            return float(size_str[:-len(size_unit)]) * availables[size_unit]\n",
            ),
            ("    return int(size_str)\n", "    return float(size_str)\n"),
        ),
    ),
)


def fix_script(script: Script) -> tuple[Script, tuple[str, ...]]:
    """``script`` with every listed fix that applies to it, and the ids of those fixes."""
    applied = []
    for fix in UPSTREAM_FIXES:
        if fix.applies_to(script):
            script = fix.apply(script)
            applied.append(fix.id)
    return script, tuple(applied)


def fix_check(ev: CheckEval) -> tuple[CheckEval, tuple[str, ...]]:
    """The check chain ``ev`` with its scripts fixed as the judge runs them, and the ids of the fixes applied."""
    scripts: list[Script | None] = []
    applied: list[str] = []
    for entry in ev.scripts:
        if entry is not None:
            entry, ids = fix_script(entry)
            applied.extend(ids)
        scripts.append(entry)
    return (replace(ev, scripts=tuple(scripts)), tuple(applied)) if applied else (ev, ())


def fix_task(task: OSTask) -> tuple[OSTask, tuple[str, ...]]:
    """``task`` as the judge sees it (see :func:`fix_check`), and the ids of the fixes applied."""
    if not isinstance(task.evaluation, CheckEval):
        return task, ()
    ev, applied = fix_check(task.evaluation)
    return (replace(task, evaluation=ev), applied) if applied else (task, ())
