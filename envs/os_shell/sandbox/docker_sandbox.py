"""``DockerSandbox``: one fresh, network-less, resource-limited container per episode (inspect_ai's sandbox
interface: ``exec``, ``write_file``, ``read_file``) with the episode's persistent bash (``shell``)."""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import secrets
import tarfile
import threading
import time
from collections.abc import Callable
from typing import Any

import docker
import docker.errors

from envs.os_shell.sandbox.attached import AttachedExec
from envs.os_shell.sandbox.base import (
    Closable,
    ExecResult,
    SandboxError,
    SandboxLimits,
    ShellResult,
    check_exec_request,
)
from envs.os_shell.sandbox.client import (
    HOSTNAME,
    LABEL,
    OWNER_LABEL,
    docker_call,
    docker_client,
    remove_container,
)
from envs.os_shell.sandbox.shell import PersistentShell

_NAMES = itertools.count()


# Runs one argv with a timeout enforced inside the container (timeout -k: docker exec forwards no signals)
# and both output streams capped there.
EXEC_WRAPPER = r"""
cap=$1; t=$2; shift 2
exec 3> >(exec head -c "$cap" >&2); errpid=$!
timeout -k 2 "$t" "$@" 2>&3 | head -c "$cap"; rc=${PIPESTATUS[0]}
exec 3>&-; wait "$errpid" 2>/dev/null; exit "$rc"
"""


# PID 1 of every container: idles, reaps orphans (bash waits for any child), and survives ``kill -9 -1``
# (which spares PID 1) and the death of its sleep; docker's own --init would exit with its child.
_IDLE_INIT = "trap '' TERM INT HUP; while :; do sleep 86400 & wait $!; done"


class DockerSandbox(Closable):
    """One container: ``exec`` runs argument lists, ``shell`` drives the episode's persistent bash."""

    def __init__(
        self,
        image: str,
        limits: SandboxLimits = SandboxLimits(),
        client: docker.DockerClient | None = None,
        run_options: dict[str, Any] | None = None,
    ):
        """Create and start the container; ``run_options`` override the engine options (the judge's box)."""
        from envs.os_shell.disk_cap import DiskGuard, disk_options

        self.image = image
        self.limits = limits
        self._client = client or docker_client()
        self.name = f"promptless-{os.getpid()}-{next(_NAMES)}-{secrets.token_hex(3)}"
        self._shell: PersistentShell | None = None
        self._shell_lock = threading.Lock()

        options: dict[str, Any] = {
            "command": ["bash", "-c", _IDLE_INIT],
            "name": self.name,
            "detach": True,
            "network_mode": "none",
            "mem_limit": f"{limits.memory_mb}m",
            "memswap_limit": f"{limits.memory_mb}m",
            "nano_cpus": int(limits.cpus * 1e9),
            "pids_limit": limits.pids,
            "labels": {LABEL: "1", OWNER_LABEL: f"{HOSTNAME}:{os.getpid()}"},
            "working_dir": "/root",
            "stdin_open": False,
            "tty": False,
            **disk_options(self._client, image, limits.disk_mb),
            **(run_options or {}),
        }
        self.name = options["name"]
        try:
            self._container = docker_call(self._client.containers.run, image, **options)
        except docker.errors.ImageNotFound as error:
            raise SandboxError(
                f"image {image!r} is missing: build it with `python -m envs.os_shell.image`"
            ) from error
        self.id: str = self._container.id
        self.disk_guard = DiskGuard.start(self, limits.disk_mb, options)

    def start_shell(self) -> None:
        """Start the persistent shell now (the pool does this before handing the sandbox out)."""
        with self._shell_lock:
            if self._shell is None:
                self._shell = PersistentShell(self._client, self.id, self.limits.output_bytes)

    def healthy(self) -> bool:
        """True while the sandbox is open and its shells are attached (no Docker call: used by acquire)."""
        shell = self._shell
        return not self._closed and not self.disk_exceeded and (shell is None or shell.attached())

    def shell(self, command: str, timeout: float = 10.0) -> ShellResult:
        """Run ``command`` in the episode's persistent bash; on timeout its process tree is killed."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        return self._in_shell(lambda shell: shell.run(command, timeout))

    def type_input(self, text: str, timeout: float = 10.0) -> ShellResult:
        """Type ``text`` into the persistent bash as terminal input (a task's ``start``; see ``PersistentShell``)."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        return self._in_shell(lambda shell: shell.type_input(text, timeout))

    def _in_shell(self, action: Callable[[PersistentShell], ShellResult]) -> ShellResult:
        self._check_open()
        if self.disk_exceeded:
            return ShellResult(output=self._disk_notice(), exit_code=None)
        self.start_shell()
        assert self._shell is not None  # for type checkers: start_shell set it
        with self._shell_lock:
            result = action(self._shell)
        if self.disk_exceeded:  # the watchdog stopped the container while the command ran
            return dataclasses.replace(result, output=result.output + self._disk_notice(), exit_code=None)
        return result

    @property
    def disk_exceeded(self) -> bool:
        """True once the disk watchdog stopped the container for writing more than ``limits.disk_mb``."""
        return self.disk_guard is not None and self.disk_guard.exceeded

    def _disk_notice(self) -> str:
        return (
            f"\n[the sandbox wrote more than its disk limit ({self.limits.disk_mb} MiB): every process in it "
            "was killed and no more commands can run]\n"
        )

    def exec(
        self,
        argv: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> ExecResult:
        """Run ``argv`` (no shell parsing) with optional stdin, cwd (relative: to /root) and environment."""
        check_exec_request(argv, timeout)
        self._check_open()
        if cwd is not None and not cwd.startswith("/"):
            cwd = f"/root/{cwd}"  # relative paths are relative to /root, as in write_file and read_file
        cap = self.limits.output_bytes
        payload = input.encode() if isinstance(input, str) else (input or b"")
        started = time.monotonic()
        wrapped = ["bash", "-c", EXEC_WRAPPER, "exec", str(cap + 1), f"{timeout:g}", *argv]
        try:
            attached = AttachedExec(
                self._client, self.id, wrapped, workdir=cwd, environment=env, max_buffer=2 * cap + (1 << 20)
            )
        except docker.errors.APIError as error:
            return ExecResult(
                returncode=126, stdout="", stderr=f"cannot start {argv[0]!r}: {error.explanation}"
            )
        try:
            attached.start(payload)
            attached.close_stdin()
            host_deadline = started + timeout + 10.0
            ended = attached.wait(lambda: attached.eof, host_deadline)
            with attached.changed:
                out, err = bytes(attached.stdout), bytes(attached.stderr)
            code = attached.exit_code(time.monotonic() + 5.0) if ended else None
        finally:
            attached.close()
        elapsed = time.monotonic() - started
        if code is None:
            return ExecResult(124, _decode(out[:cap]), _decode(err[:cap]), timed_out=True)
        timed_out = code == 124 or (code == 137 and elapsed >= timeout)
        if cwd is not None and code in (126, 127) and b"chdir" in err + out:
            raise NotADirectoryError(f"cwd {cwd!r} does not exist in the sandbox")
        return ExecResult(
            returncode=code,
            stdout=_decode(out[:cap]),
            stderr=_decode(err[:cap]),
            timed_out=timed_out,
            truncated=len(out) > cap or len(err) > cap,
        )

    def write_file(self, path: str, content: str | bytes) -> None:
        """Write ``content`` to ``path`` (relative to /root), creating parent directories."""
        data = content.encode() if isinstance(content, str) else content
        result = self.exec(
            ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "write_file", path],
            input=data,
            cwd="/root",
        )
        if result.returncode != 0:
            raise OSError(f"cannot write {path!r} in the sandbox: {result.stderr.strip()}")

    def read_file(self, path: str) -> bytes:
        """The bytes of ``path`` (relative to /root); FileNotFoundError when it does not exist."""
        self._check_open()
        absolute = path if path.startswith("/") else f"/root/{path}"
        try:
            stream, _ = docker_call(self._container.get_archive, absolute, retries=2)
            archive = b"".join(stream)
        except docker.errors.NotFound:
            raise FileNotFoundError(f"no such file in the sandbox: {path!r}") from None
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            member = tar.next()
            if member is None:
                raise FileNotFoundError(f"no such file in the sandbox: {path!r}")
            if member.isdir():
                raise IsADirectoryError(f"{path!r} is a directory in the sandbox")
            if member.issym() or member.islnk():
                # get_archive returns the link itself; read its target through a shell instead.
                result = self.exec(["cat", "--", absolute])
                if result.returncode != 0:
                    raise FileNotFoundError(f"cannot read {path!r} in the sandbox: {result.stderr.strip()}")
                return result.stdout.encode()
            handle = tar.extractfile(member)
            if handle is None:
                raise OSError(f"{path!r} is not a regular file in the sandbox")
            return handle.read()

    def _label(self) -> str:
        return self.name

    def _release(self) -> None:
        """Remove the container and everything in it."""
        if self.disk_guard is not None:
            self.disk_guard.stop()
        if self._shell is not None:
            self._shell.close()
        remove_container(self._client, self.id)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
