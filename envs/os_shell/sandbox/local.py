"""``LocalSandbox``: the sandbox protocol on plain host processes in a private temporary folder.

It isolates nothing (no container, the host's network and files), so the benchmark never uses it: it exists so
that the code above the sandbox, and the conformance suite that every provider must pass, run in milliseconds
where no Docker engine runs. What it keeps from ``DockerSandbox``:

- ``exec`` runs through the same wrapper (``timeout -k`` in the process group, ``head -c`` caps on both
  streams), so return codes, timeouts and truncation read the same;
- ``shell`` keeps the working directory, variables and functions across calls by saving them after each
  command and restoring them before the next one; background jobs do not outlive their call (each call is one
  process group, killed at its end on timeout);
- paths are relative to the sandbox's folder, which stands for the container's /root; absolute paths and
  paths that leave the folder are refused.

Example::

    with LocalSandbox() as box:
        box.shell("cd sub 2>/dev/null || mkdir sub && cd sub; X=41")
        box.shell("echo $((X + 1)) ${PWD##*/}").output  # "42 sub\\n"
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from envs.os_shell.sandbox.base import (
    Closable,
    ExecResult,
    SandboxLimits,
    ShellResult,
    check_exec_request,
)
from envs.os_shell.sandbox.docker_sandbox import EXEC_WRAPPER

# Restore the saved state, run the command with stdin from /dev/null, save the state again. Bash's own
# variables (read-only or set by the shell itself) are not saved: restoring them would fail or lie.
_SHELL_STEP = r"""
cd -- "$(cat "$1/cwd")" 2>/dev/null || cd -- "$HOME"
. "$1/state" 2>/dev/null
eval "$2" </dev/null
__pl_rc=$?
{
  for __pl_v in $(compgen -v); do
    case $__pl_v in
      BASH*|SHELLOPTS|SHLVL|PWD|OLDPWD|_|PIPESTATUS|FUNCNAME|GROUPS|EUID|UID|PPID|RANDOM|SRANDOM|LINENO) ;;
      SECONDS|HISTCMD|EPOCHSECONDS|EPOCHREALTIME|COMP_WORDBREAKS|DIRSTACK|HOSTNAME|HOSTTYPE|MACHTYPE) ;;
      OSTYPE|IFS|OPTIND|OPTERR|__pl_*) ;;
      *) declare -p "$__pl_v" 2>/dev/null | grep -v '^declare -[a-zA-Z]*r' ;;
    esac
  done
  declare -f
} >"$1/state.new" 2>/dev/null && mv -f "$1/state.new" "$1/state"
pwd >"$1/cwd"
exit "$__pl_rc"
"""


class LocalSandbox(Closable):
    """Runs commands as host processes in a temporary folder that stands for the container's /root."""

    def __init__(self, limits: SandboxLimits = SandboxLimits()):
        self.limits = limits
        self.root = Path(tempfile.mkdtemp(prefix="promptless-local-"))
        self._state = Path(tempfile.mkdtemp(prefix="promptless-local-state-"))
        (self._state / "cwd").write_text(str(self.root))
        self._lock = threading.Lock()

    def _environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root), "LANG": "C.UTF-8"}
        return base | (extra or {})

    def _path(self, path: str) -> Path:
        if path.startswith("/"):
            raise ValueError(f"LocalSandbox takes paths relative to its folder, got {path!r}")
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"path {path!r} leaves the sandbox's folder")
        return target

    def _run(
        self, argv: list[str], payload: bytes, cwd: Path, env: dict[str, str], timeout: float
    ) -> tuple[int | None, bytes, bytes]:
        """Run ``argv`` in its own process group; SIGKILL the group past ``timeout`` (None: killed)."""
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(payload, timeout=timeout)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            code = None
            out, err = b"", b""
        finally:
            # The command's children (background jobs, a pipeline's other ends) go with it.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if code is None:
            out, err = process.communicate()
        return code, out, err

    def exec(
        self,
        argv: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> ExecResult:
        """Run ``argv`` (no shell parsing) with optional stdin, cwd (relative) and extra environment."""
        check_exec_request(argv, timeout)
        self._check_open()
        where = self.root if cwd is None else self._path(cwd)
        if not where.is_dir():
            raise NotADirectoryError(f"cwd {cwd!r} does not exist in the sandbox")
        cap = self.limits.output_bytes
        payload = input.encode() if isinstance(input, str) else (input or b"")
        wrapped = ["bash", "-c", EXEC_WRAPPER, "exec", str(cap + 1), f"{timeout:g}", *argv]
        code, out, err = self._run(wrapped, payload, where, self._environment(env), timeout + 10.0)
        if code is None:
            return ExecResult(124, _decode(out[:cap]), _decode(err[:cap]), timed_out=True)
        return ExecResult(
            returncode=code,
            stdout=_decode(out[:cap]),
            stderr=_decode(err[:cap]),
            timed_out=code == 124,
            truncated=len(out) > cap or len(err) > cap,
        )

    def shell(self, command: str, timeout: float = 10.0) -> ShellResult:
        """Run ``command`` in bash with the state the earlier calls left; on timeout its group is killed."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self._check_open()
        cap = self.limits.output_bytes
        # stderr joins stdout in order, as a terminal shows them; ``head -c`` caps them as they are written.
        script = f"exec > >(exec head -c {cap + 1}) 2>&1; {_SHELL_STEP}"
        argv = ["bash", "-c", script, "shell", str(self._state), command]
        with self._lock:
            code, out, _ = self._run(argv, b"", self.root, self._environment(), timeout)
        return ShellResult(
            output=_decode(out[:cap]),
            exit_code=code,
            timed_out=code is None,
            truncated=len(out) > cap,
        )

    def write_file(self, path: str, content: str | bytes) -> None:
        """Write ``content`` to ``path`` (relative to the sandbox's folder), creating parent directories."""
        self._check_open()
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def read_file(self, path: str) -> bytes:
        """The bytes of ``path``; FileNotFoundError when it does not exist."""
        self._check_open()
        target = self._path(path)
        if target.is_dir():
            raise IsADirectoryError(f"{path!r} is a directory in the sandbox")
        if not target.exists():
            raise FileNotFoundError(f"no such file in the sandbox: {path!r}")
        return target.read_bytes()

    def _label(self) -> str:
        return str(self.root)

    def _release(self) -> None:
        """Remove the folder and the saved shell state."""
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self._state, ignore_errors=True)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
