"""Runs a task's ``init`` scripts apart from the agent's shell, as AgentBench's ``exec_run`` does.

Each script is its own ``docker exec`` (``bash -c code`` or ``python3 -c code``, cwd /root, stdin from
/dev/null), in a session of its own. Its output, and that of any background job it starts, goes to a file
that only the harness reads: none of it can reach the agent's observations. The call returns once the script
has exited and every background job it left has exec'd its program: until then a job is a fork of the script
(same command line), and a ``pgrep`` typed the next instant would miss it. Each job gets at most about 2 s
to do so (a job that is a subshell never execs). A script still running after ``timeout`` seconds is killed
together with everything it started. The last 2000 bytes of the output come back, for error messages.

Example::

    result = run_init(sandbox, Script("bash", "mkdir -p /srv/x && (sleep 100 &)"), timeout=120)
    assert result.returncode == 0
"""

from __future__ import annotations

from typing import Any, Protocol

from envs.os_shell.tasks import Script

_RUNNER = r"""
t=$1; shift
ref=$(mktemp); out=$(mktemp)
printf '%s\0' "$@" >"$ref"
setsid timeout -k 2 "$t" "$@" </dev/null >"$out" 2>&1 &
sid=$!
wait "$sid"; rc=$?
for f in /proc/[0-9]*/stat; do
  read -r line 2>/dev/null <"$f" || continue
  rest=${line##*) }; set -f; a=($rest); set +f
  [[ ${a[3]} == "$sid" ]] || continue
  p=${f#/proc/}; p=${p%/stat}
  for ((n = 0; n < 200; n++)); do cmp -s "/proc/$p/cmdline" "$ref" || break; sleep 0.01; done
done
tail -c 2000 "$out"; rm -f "$out" "$ref"
exit "$rc"
"""


class _Executes(Protocol):
    def exec(
        self, argv: list[str], input: Any = None, cwd: Any = None, env: Any = None, timeout: float = 30.0
    ) -> Any: ...


def run_init(sandbox: _Executes, script: Script, timeout: float) -> Any:
    """Run ``script`` as a task's init (see the module docstring); returns the sandbox's ``ExecResult``."""
    argv = ["bash", "-c", _RUNNER, "init", f"{timeout:g}", *script.argv()]
    # The runner's own limit leaves it time to settle the jobs and report after the script's limit.
    return sandbox.exec(argv, cwd="/root", timeout=timeout + 30.0)
