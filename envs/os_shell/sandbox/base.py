"""What the OS environment needs from a sandbox, whatever runs it: the protocol, its results and limits.

Two providers implement it: ``DockerSandbox`` (the benchmark's: one network-less container per episode) and
``LocalSandbox`` (plain host processes, for fast tests of code above the sandbox; it isolates nothing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable


@dataclass(frozen=True)
class ExecResult:
    """Result of ``Sandbox.exec``: exit status, decoded output, and whether it timed out or was capped."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False

    @property
    def success(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass(frozen=True)
class ShellResult:
    """Result of ``Sandbox.shell``: stdout and stderr interleaved as a terminal shows them.

    ``exit_code`` is None only when no status could be read (the shell had to be restarted).
    """

    output: str
    exit_code: int | None
    timed_out: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class SandboxLimits:
    """Per-container resource limits; ``output_bytes`` caps what one command may return.

    ``disk_mb`` caps what the container may write to the host's disk (0: no cap); see :mod:`.disk_cap`.
    """

    memory_mb: int = 512
    cpus: float = 1.0
    pids: int = 256
    output_bytes: int = 1_000_000
    disk_mb: int = int(os.environ.get("PROMPTLESS_DISK_MB", "1024"))

    def __post_init__(self) -> None:
        if (
            self.memory_mb < 16
            or self.cpus <= 0
            or self.pids < 16
            or self.output_bytes < 1
            or not 0 <= self.disk_mb
        ):
            raise ValueError(f"invalid sandbox limits: {self}")


@runtime_checkable
class Sandbox(Protocol):
    """What the OS environment needs from a sandbox; a provider other than Docker implements the same."""

    def exec(
        self,
        argv: list[str],
        input: str | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> ExecResult: ...

    def write_file(self, path: str, content: str | bytes) -> None: ...

    def read_file(self, path: str) -> bytes: ...

    def shell(self, command: str, timeout: float = 10.0) -> ShellResult: ...

    def close(self) -> None: ...


def check_exec_request(argv: object, timeout: float) -> None:
    """What every provider refuses before running anything: an argv that is not a non-empty list of
    strings, and a timeout that is not positive."""
    if not isinstance(argv, list) or not argv or not all(isinstance(arg, str) for arg in argv):
        raise ValueError(f"argv must be a non-empty list of strings, got {argv!r}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")


class SandboxError(RuntimeError):
    """The sandbox could not be created or its shell could not be (re)started."""


_Open = TypeVar("_Open", bound="Closable")


class Closable:
    """The providers' life cycle: open until ``close``, which frees what the provider holds (``_release``)
    once, however often it is called; a closed sandbox refuses work (``_check_open``) with SandboxError."""

    _closed = False

    def _label(self) -> str:
        return type(self).__name__

    def _release(self) -> None:
        raise NotImplementedError

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError(f"sandbox {self._label()} is closed")

    def close(self) -> None:
        """Free the sandbox and everything in it (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._release()

    def __enter__(self: _Open) -> _Open:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
