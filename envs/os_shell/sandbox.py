"""Docker sandboxes for the OS environment: one fresh, network-less, resource-limited container per episode.

The interface follows inspect_ai's sandbox: ``exec(argv, input, cwd, env, timeout)`` runs one argument list,
``write_file``/``read_file`` move files, and ``shell(command, timeout)`` types a command into the episode's
persistent bash, where ``cd``, variables, functions and background jobs persist across calls, as in AgentBench.

How the persistent shell works (why it is fast and why a timeout never breaks it):

- each sandbox keeps two long-lived ``docker exec`` sessions attached over the engine's socket: the *main*
  shell (an interactive bash in its own session, so that Ctrl-C semantics apply) and a fork-free *control*
  shell that can still act when the container has run out of processes (fork bomb);
- a command is sent as one line: ``eval`` of the command text, with stdin from /dev/null and output through a
  fresh ``head -c`` (the cap is applied inside the container), followed by a marker through that same pipe and
  a sentinel carrying the exit status; the host reads until it has both, never "until N s of silence";
- on timeout the control shell sends SIGINT to the main shell's process group (which aborts the command the
  way Ctrl-C does in a terminal, while background jobs, which ignore SIGINT, keep running), then SIGKILLs
  what is left of the command's tree: every process of the shell's session except the shell itself and the
  background jobs that were running before the command. The shell keeps its cwd, variables and earlier jobs;
  if a command ends the shell (``exit``), the next call starts a new one in the same directory.

Example::

    from envs.os_shell.sandbox import shared_pool

    pool = shared_pool()
    box = pool.acquire()
    box.shell("cd /tmp && X=41")
    print(box.shell("echo $((X + 1)) $PWD").output)  # "42 /tmp\\n"
    pool.release(box)
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import io
import itertools
import os
import queue
import re
import secrets
import socket
import struct
import tarfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import docker
import docker.errors
import requests.exceptions

T = TypeVar("T")

LABEL = "promptless"
OWNER_LABEL = "promptless.owner"
_HOSTNAME = socket.gethostname()
_NAMES = itertools.count()

#: At most this many Docker API calls in flight per process: the engine slows down for everybody past it.
_API_CALLS = threading.BoundedSemaphore(int(os.environ.get("PROMPTLESS_DOCKER_CONCURRENCY", "8")))
_TRANSIENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


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


class SandboxError(RuntimeError):
    """The sandbox could not be created or its shell could not be (re)started."""


# --------------------------------------------------------------------------------------------------------
# Docker API calls: a concurrency cap, and retries for the idempotent ones that can hang or drop.


def docker_call(fn: Callable[..., T], *args: Any, retries: int = 0, **kwargs: Any) -> T:
    """Call ``fn`` under the process-wide cap; retry ``retries`` times on connection errors and timeouts."""
    for attempt in itertools.count():
        try:
            with _API_CALLS:
                return fn(*args, **kwargs)
        except _TRANSIENT:
            if attempt >= retries:
                raise
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


_CLIENT: docker.DockerClient | None = None
_CLIENT_LOCK = threading.Lock()


def docker_client() -> docker.DockerClient:
    """A process-wide Docker client, with a clear error when no engine answers."""
    global _CLIENT
    with _CLIENT_LOCK:
        if _CLIENT is None:
            try:
                client = docker.from_env(timeout=60)
                client.ping()
            except docker.errors.DockerException as error:
                raise SandboxError(
                    f"no Docker engine answers ({error}); start one, e.g. with scripts/setup.sh"
                ) from error
            _CLIENT = client
        return _CLIENT


# --------------------------------------------------------------------------------------------------------
# Attached exec sessions.


def _ansi_c_quote(text: str) -> str:
    """Quote ``text`` as a bash ``$'...'`` word that stays on one line, byte for byte."""
    out = []
    for byte in text.encode("utf-8", errors="surrogateescape"):
        if byte in (0x27, 0x5C):  # ' and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


class _Attached:
    """One ``docker exec`` with stdin attached; a reader thread demultiplexes its output into buffers.

    The command runs behind ``read -r _`` and only starts when ``start()`` sends the first line: output written
    before the HTTP upgrade completes could otherwise be swallowed by the HTTP client's buffer.
    """

    #: Past ``max_buffer`` bytes the middle of a buffer is dropped; markers always sit in its last KEEP_TAIL.
    KEEP_TAIL = 64 << 10

    def __init__(
        self,
        client: docker.DockerClient,
        container_id: str,
        argv: list[str],
        *,
        workdir: str | None = None,
        environment: dict[str, str] | None = None,
        max_buffer: int = 4 << 20,
    ):
        api = client.api
        self.max_buffer = max(max_buffer, 2 * self.KEEP_TAIL)
        gated = ["/bin/bash", "-c", 'read -r _ && exec "$@"', "gate", *argv]
        self._api = api
        self.exec_id = docker_call(
            api.exec_create,
            container_id,
            gated,
            stdin=True,
            stdout=True,
            stderr=True,
            workdir=workdir,
            environment=environment,
            retries=2,
        )["Id"]
        raw = docker_call(api.exec_start, self.exec_id, socket=True)
        self._sock: socket.socket = getattr(raw, "_sock", raw)
        self._sock.settimeout(None)
        self._raw = raw
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.dropped = False
        self.eof = False
        self.changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, name="promptless-exec-reader", daemon=True)
        self._reader.start()

    def start(self, first_input: bytes = b"") -> None:
        self.send(b"go\n" + first_input)

    def send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as error:
            raise BrokenPipeError(f"exec session closed: {error}") from error

    def close_stdin(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)

    def _recv_exact(self, n: int) -> bytes | None:
        chunks = []
        while n:
            chunk = self._sock.recv(min(n, 1 << 16))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _read_loop(self) -> None:
        try:
            while True:
                header = self._recv_exact(8)
                if header is None:
                    break
                stream, size = header[0], struct.unpack(">I", header[4:])[0]
                payload = self._recv_exact(size)
                if payload is None:
                    break
                target = self.stdout if stream == 1 else self.stderr
                with self.changed:
                    target += payload
                    if len(target) > self.max_buffer:
                        del target[self.max_buffer - self.KEEP_TAIL : len(target) - self.KEEP_TAIL]
                        self.dropped = True
                    self.changed.notify_all()
        except OSError:
            pass
        finally:
            with self.changed:
                self.eof = True
                self.changed.notify_all()

    def wait(self, predicate: Callable[[], bool], deadline: float) -> bool:
        """Wait until ``predicate()`` (called under the lock) holds or the deadline passes."""
        with self.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
            return True

    def exit_code(self, deadline: float) -> int | None:
        """The exec's exit status once it has ended (polls briefly: the engine records it after EOF)."""
        while True:
            info = docker_call(self._api.exec_inspect, self.exec_id, retries=2)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(OSError, AttributeError):
            self._raw.close()


# The main shell's helpers. ``__pl_begin`` opens a capped pipe (an unbuffered ``head -c``: a background job
# may hold the pipe open for ever, so nothing may wait in stdio buffers; it ignores SIGINT, so that a Ctrl-C
# does not cut the output of background jobs); ``__pl_end`` pushes a marker through that pipe (it
# proves that all the command's output has been forwarded), then prints the sentinel: token, status, whether
# the marker went through, the pids a timeout must spare (running jobs and live output pipes), and $PWD.
# Everything after the command is fork-free, so a sentinel still arrives when no process can be created.
_SHELL_INIT = r"""
set +H +o history; unset HISTFILE PROMPT_COMMAND; PS1=''; PS2=''; PS0=''; trap ':' PIPE
__pl_lim=%(limit)d; __pl_jf=/dev/shm/.promptless-jobs-$$; __pl_heads=()
__pl_words=" %(words)s "
__pl_sb=$(stdbuf --version >/dev/null 2>&1 && ls /usr/libexec/coreutils/libstdbuf.so /usr/lib/*/coreutils/libstdbuf.so 2>/dev/null | head -n1)
if [[ -n $__pl_sb ]]; then  # what `stdbuf -o0` does, without its extra exec per command
  __pl_begin() { exec {__pl_fd}> >(trap '' INT; _STDBUF_O=0 LD_PRELOAD=$__pl_sb exec head -c "$__pl_lim"); __pl_heads+=("$!"); }
else
  __pl_begin() { exec {__pl_fd}> >(trap '' INT; exec stdbuf -o0 head -c "$__pl_lim"); __pl_heads+=("$!"); }
fi
__pl_end() {
  local t=$1 s=$2 m=0 h keep=()
  if [[ -n ${__pl_fd-} ]]; then
    printf '\036%%s\036' "$t" >&"$__pl_fd" 2>/dev/null && m=1
    exec {__pl_fd}>&-; unset __pl_fd
  fi
  for h in "${__pl_heads[@]}"; do kill -0 "$h" 2>/dev/null && keep+=("$h"); done
  __pl_heads=("${keep[@]}")
  jobs -p >|"$__pl_jf" 2>/dev/null && mapfile -t -O "${#keep[@]}" keep <"$__pl_jf"
  local IFS=,; printf '\037%%s %%s %%s %%s %%s %%s\037' "$t" "$s" "$m" "${keep[*]}" "$$" "$PWD"
}
__pl_guard() {
  local l w n=0 a=()
  { trap -p DEBUG RETURN; alias; enable -n; declare -F; } >|"$__pl_jf" 2>/dev/null
  mapfile -t a <"$__pl_jf"
  for l in "${a[@]}"; do
    case $l in
      "declare -f"*) w=${l##* }; [[ $w != __pl_* && $__pl_words == *" $w "* ]] && n=1 ;;
      "alias "*) w=${l#alias }; w=${w%%%%=*}; [[ $__pl_words == *" $w "* ]] && n=1 ;;
      *) n=1 ;;
    esac
  done
  printf '\037guard %%s %%s %%s\037' "$1" "$n" "$$"
}
declare -ft __pl_guard; readonly -f __pl_begin __pl_end __pl_guard; readonly __pl_lim __pl_jf __pl_sb __pl_words
%(cd)sprintf '\037ready %%s\037' "$$"
"""

# The control shell: fork-free helpers that still work when the container's pid limit is reached.
# ``__pl_sweep SID SHELL KEEP...`` SIGKILLs every process of session SID except the shells from SHELL up to SID
# (a ``su`` typed at the start nests the agent's shell) and the subtrees of KEEP,
# in rounds until none is left.
_CONTROL_INIT = r"""
__pl_victims() {
  local sid=$1 shell=$2 f line rest p q i spared; shift 2
  local -A keep=() ppid=() sess=() chain=(); local -a a
  for p in "$@"; do keep[$p]=1; done
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    p=${f#/proc/}; p=${p%/stat}; rest=${line##*) }
    set -f; a=($rest); set +f
    ppid[$p]=${a[1]}; sess[$p]=${a[3]}
  done
  q=$shell
  for ((i = 0; i < 64; i++)); do
    chain[$q]=1; [[ $q == "$sid" || $q == 0 || $q == 1 ]] && break; q=${ppid[$q]-0}
  done
  __pl_v=()
  for p in "${!sess[@]}"; do
    [[ ${sess[$p]} == "$sid" && -z ${chain[$p]-} ]] || continue
    q=$p; spared=0
    for ((i = 0; i < 64; i++)); do
      [[ -n ${keep[$q]-} ]] && { spared=1; break; }
      q=${ppid[$q]-0}; [[ $q == 0 || $q == 1 ]] && break
    done
    ((spared)) || __pl_v+=("$p")
  done
}
__pl_sweep() {
  local n=0 round
  for ((round = 0; round < 50; round++)); do
    __pl_victims "$@"
    ((${#__pl_v[@]})) || break
    # Freeze first so that a fork bomb cannot replace its processes faster than they die.
    kill -STOP "${__pl_v[@]}" 2>/dev/null; kill -KILL "${__pl_v[@]}" 2>/dev/null
    ((n += ${#__pl_v[@]}))
  done
  echo "swept $n"
}
# ``__pl_quiet SID``: whether no process of session SID is running or in uninterruptible sleep.
__pl_quiet() {
  local f line rest; local -a a
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    rest=${line##*) }; set -f; a=($rest); set +f
    [[ ${a[3]} == "$1" && ${a[0]} == [RD] ]] && { echo busy; return; }
  done
  echo quiet
}
echo ready
"""

_SENTINEL = re.compile(rb"\x1f([0-9a-f]{16}) (\d+) ([01]) ([\d,]*) (\d+) ([^\x1f]*)\x1f")
_READY = re.compile(rb"\x1fready (\d+)\x1f")
_GUARD = re.compile(rb"\x1fguard ([0-9a-f]{16}) ([01]) (\d+)\x1f")
_OTHER = re.compile(rb"\x1fother (\d+)\x1f")
#: Words whose redefinition (alias or function) would change what the harness's command line does: a shell
#: that has one is restarted before the next command.
_GUARDED_WORDS = (
    "eval printf exec kill jobs mapfile local unset read trap set shopt declare alias enable builtin command "
    "echo cd wait true false return readonly"
)


@dataclass(frozen=True)
class _Sentinel:
    """What the shell reports after a command: its status and the state a later timeout needs."""

    status: int
    marker_sent: bool
    keep: tuple[str, ...]
    pid: int
    cwd: str


@dataclass
class _Reading:
    """Progress of reading one command's output from the main shell's buffer."""

    token: str
    limit: int
    sentinel: _Sentinel | None = None
    at: int = 0  # where the sentinel sat: with no marker, the output ends there

    @property
    def marker(self) -> bytes:
        return b"\x1e" + self.token.encode() + b"\x1e"

    def done(self, main: _Attached) -> bool:
        """True once the command's output is complete (called with ``main.changed`` held)."""
        buffer = main.stdout
        # Sentinels (this command's and late duplicates of earlier ones) are cut out wherever they sit;
        # walking backwards keeps the earlier positions valid.
        for match in reversed(list(_SENTINEL.finditer(buffer))):
            token, status, sent, keep, pid, cwd = match.groups()
            start, end = match.start(), match.end()
            if token.decode() == self.token and self.sentinel is None:
                self.sentinel = _Sentinel(
                    status=int(status),
                    marker_sent=sent == b"1",
                    keep=tuple(job for job in keep.decode().split(",") if job),
                    pid=int(pid),
                    cwd=cwd.decode("utf-8", errors="replace"),
                )
                self.at = start
            elif self.sentinel is not None and start < self.at:
                self.at -= end - start
            del buffer[start:end]
        if self.sentinel is None:
            return main.eof
        if self.sentinel.marker_sent:
            return self.marker in buffer or len(buffer) >= self.limit or main.eof
        return True


class _Shell:
    """The episode's persistent bash plus its control shell (see the module docstring)."""

    START_TIMEOUT = 30.0
    #: How long an idle shell may take to answer the guard before it is declared subverted.
    GUARD_WAIT = 5.0
    #: How long a typed start may take to settle before the probe that tells who reads the shell's input.
    QUIET_WAIT = 3.0
    #: After a timeout: how long the SIGINT gets, then how many SIGKILL sweeps, each waited on this long.
    INTERRUPT_GRACE = 0.3
    SWEEPS = 4
    SWEEP_WAIT = 0.5

    def __init__(self, client: docker.DockerClient, container_id: str, output_bytes: int, cwd: str = "/root"):
        self._client = client
        self._container_id = container_id
        self._output_bytes = output_bytes
        self._keep: list[str] = []
        self.cwd = cwd
        self.restarts = 0
        self._control = self._start_control()
        self._main, self.pid = self._start_main(cwd)
        #: The session (and process group) the shell leads; ``pid`` is the shell that reads the commands,
        #: a nested one after a ``su`` typed as the task's start.
        self.sid = self.pid
        self._await_control()

    def _start_control(self) -> _Attached:
        control = _Attached(self._client, self._container_id, ["bash", "--norc", "--noprofile"])
        control.start(_CONTROL_INIT.encode())
        return control

    def _await_control(self) -> None:
        control = self._control
        if not control.wait(lambda: b"ready\n" in control.stdout or control.eof, self._deadline()):
            raise SandboxError("the sandbox's control shell did not start")
        if control.eof:
            raise SandboxError("the sandbox's control shell exited at start")
        with control.changed:
            control.stdout.clear()

    def _deadline(self) -> float:
        return time.monotonic() + self.START_TIMEOUT

    def _start_main(self, cwd: str) -> tuple[_Attached, int]:
        # setsid: the shell gets its own session and process group, so SIGINT/SIGKILL sweeps can target the
        # command's processes and nothing else; its own stderr (prompts, job notices) is dropped.
        main = _Attached(
            self._client,
            self._container_id,
            ["/bin/bash", "-c", "exec setsid -w bash --norc --noprofile --noediting -i 2>/dev/null"],
            max_buffer=2 * self._output_bytes + (1 << 20),
        )
        main.start(self._init_text(cwd).encode())
        found = self._await_ready(main)
        if not found:
            main.close()
            raise SandboxError("the sandbox's shell did not start")
        return main, found[0]

    def _init_text(self, cwd: str | None) -> str:
        cd = "" if cwd is None else f"cd {_ansi_c_quote(cwd)} 2>/dev/null || cd /root 2>/dev/null; "
        return _SHELL_INIT % {"limit": self._output_bytes + 1, "cd": cd, "words": _GUARDED_WORDS}

    def _await_ready(self, main: _Attached) -> list[int]:
        found: list[int] = []

        def ready() -> bool:
            match = _READY.search(main.stdout)
            if match:
                found.append(int(match.group(1)))
                del main.stdout[: match.end()]
            return bool(found) or main.eof

        main.wait(ready, self._deadline())
        return found

    def _control_call(self, line: str, expect: bytes, wait: float) -> bool:
        if self._control.eof:
            # A command killed it (``kill -9 -1`` as root does): start another one.
            self._control.close()
            try:
                self._control = self._start_control()
                self._await_control()
            except (SandboxError, docker.errors.APIError):
                return False
        control = self._control
        with control.changed:
            control.stdout.clear()
        try:
            control.send(line.encode() + b"\n")
        except BrokenPipeError:
            return False
        return control.wait(lambda: expect in control.stdout, time.monotonic() + wait)

    def run(self, command: str, timeout: float) -> ShellResult:
        if not self._main.eof and not self._intact():
            self._kill_main()
        if self._main.eof:
            try:
                self._restart()
            except SandboxError as error:
                return ShellResult(output=f"[{error}]\n", exit_code=None)
        main = self._main
        token = secrets.token_hex(8)
        line = (
            f"__pl_c={_ansi_c_quote(command)}; __pl_begin; "
            f'eval "$__pl_c" </dev/null >&"$__pl_fd" 2>&1; __pl_end {token} $?\n'
        )
        reading = _Reading(token=token, limit=self._output_bytes + 1)
        try:
            main.send(line.encode())
        except BrokenPipeError:
            main.eof = True
        finished = main.wait(lambda: reading.done(main), time.monotonic() + timeout)
        timed_out = not finished
        if timed_out:
            finished = self._interrupt(reading)
        result = self._collect(main, reading, timed_out, finished)
        if timed_out and finished:
            late = self._drain()
            if late:
                room = max(0, self._output_bytes - len(result.output.encode()))
                result = dataclasses.replace(
                    result,
                    output=result.output + late[:room].decode("utf-8", errors="replace"),
                    truncated=result.truncated or len(late) > room,
                )
        return result

    def _intact(self) -> bool:
        """Whether the shell still runs the harness's command line as written.

        A command can subvert the shell: a DEBUG trap runs code before each of the harness's own commands, an
        alias or a function named ``eval`` or ``printf`` replaces them, ``exec bash`` drops the helpers. The
        guard (a read-only function) reports such changes; a shell that reports one, or none in time, is
        restarted, as a killed one is.
        """
        main = self._main
        token = secrets.token_hex(8)
        found: list[bool] = []

        def answered() -> bool:
            for match in list(_GUARD.finditer(main.stdout)):
                if match.group(1).decode() == token:
                    found.append(match.group(2) == b"0")
                    del main.stdout[match.start() : match.end()]
                    return True
            return main.eof

        try:
            main.send(f"\\__pl_guard {token}\n".encode())
        except BrokenPipeError:
            return False
        main.wait(answered, time.monotonic() + self.GUARD_WAIT)
        return bool(found) and found[0]

    def type_input(self, text: str, timeout: float) -> ShellResult:
        """Type ``text`` into the shell as terminal input (AgentBench's ``start``), not as a capped command.

        Its stdin is the shell's own, so a ``su - USER`` takes the shell over: the user's shell then reads the
        next lines, and it is made the harness's shell (an interactive bash, with the helpers, in the same
        user, home and directory). Its output and the job notices are not shown to anyone, as in AgentBench.
        """
        if self._main.eof:
            self._restart()
        main = self._main
        reading = _Reading(token=secrets.token_hex(8), limit=self._output_bytes + 1)
        other: list[int] = []

        def settled() -> bool:
            match = _OTHER.search(main.stdout)
            if match:
                other.append(int(match.group(1)))
                return True
            return reading.done(main)

        probe = f"__pl_end {reading.token} $? 2>/dev/null || printf '\\037other %s\\037' \"$$\"\n"
        try:
            main.send(text.encode() + b"\n")
            # The shell reads its input through a buffer: a line sent before a ``su`` has started to read
            # would stay with the outer shell. Wait until the session is idle (blocked reading), then probe.
            self._await_quiet(time.monotonic() + min(timeout, self.QUIET_WAIT))
            main.send(probe.encode())
        except BrokenPipeError:
            main.eof = True
        finished = main.wait(settled, time.monotonic() + timeout)
        timed_out = not finished
        if timed_out:
            finished = self._interrupt(reading)
        if other:
            # The start's user shell reads our lines now: make it an interactive bash with the helpers.
            # ``exec`` keeps its pid, user, environment and working directory.
            with main.changed:
                main.stdout.clear()
            main.send(b"exec /bin/bash --norc --noprofile --noediting -i 2>/dev/null\n")
            main.send(self._init_text(None).encode())
            found = self._await_ready(main)
            if found:
                self.pid = found[0]
        result = self._collect(main, reading, timed_out, finished)
        with main.changed:
            main.stdout.clear()
        return result

    def _await_quiet(self, deadline: float) -> None:
        """Wait until no process of the shell's session runs, twice in a row (bounded by ``deadline``)."""
        quiet = 0
        time.sleep(0.05)
        while quiet < 2 and time.monotonic() < deadline:
            ok = self._control_call(f"__pl_quiet {self.sid}", b"quiet\n", 1.0)
            quiet = quiet + 1 if ok else 0
            time.sleep(0.03)

    def _drain(self) -> bytes:
        """Output the swept processes wrote before they died, which may still be on its way.

        The sweep is over, so nothing of the command can write any more: a sentinel asked for now arrives
        after all of it.
        """
        main = self._main
        reading = _Reading(token=secrets.token_hex(8), limit=self._output_bytes + 1)
        try:
            main.send(f"__pl_end {reading.token} 0\n".encode())
        except BrokenPipeError:
            return b""
        main.wait(lambda: reading.done(main), time.monotonic() + 2.0)
        with main.changed:
            at = reading.at if reading.sentinel is not None else len(main.stdout)
            late = bytes(main.stdout[:at])
            del main.stdout[:at]
        return self._clean(late)

    def _clean(self, output: bytes) -> bytes:
        # Interactive bash wants to restore the terminal after a child dies of a signal; there is none.
        noise = f"bash: [{self.pid}: 1 (255)] tcsetattr: Inappropriate ioctl for device\n"
        return output.replace(noise.encode(), b"")

    def _interrupt(self, reading: _Reading) -> bool:
        """Stop the running command (Ctrl-C, then SIGKILL sweeps); False when the shell had to be killed."""
        main = self._main

        def ctrl_c() -> None:
            self._control_call(f"kill -INT -- -{self.sid} 2>/dev/null; echo sent", b"sent\n", 2.0)

        def wait(seconds: float) -> bool:
            return main.wait(lambda: reading.done(main), time.monotonic() + seconds)

        ctrl_c()
        # If Ctrl-C aborted the command line, its own __pl_end never ran: this one reports instead.
        with contextlib.suppress(BrokenPipeError):
            main.send(f"__pl_end {reading.token} 130\n".encode())
        if not wait(self.INTERRUPT_GRACE):
            # A child forked just after the signal never saw it and, exiting normally, makes bash believe
            # the command handled Ctrl-C (a `while true; do sleep 1; done` goes on): press it again.
            ctrl_c()
            wait(self.INTERRUPT_GRACE)
        # Always sweep once: what the command started in the background (or what ignored SIGINT) is part of
        # its tree. The jobs and pipes that existed before the command are spared.
        keep = " ".join(self._keep)
        for _ in range(self.SWEEPS):
            self._control_call(f"__pl_sweep {self.sid} {self.pid} {keep}", b"swept", 5.0)
            if wait(self.SWEEP_WAIT):
                return True
            ctrl_c()  # a shell loop outlived its children: interrupt the shell itself
        return False

    def _collect(self, main: _Attached, reading: _Reading, timed_out: bool, finished: bool) -> ShellResult:
        with main.changed:
            reading.done(main)  # strip any sentinel that arrived since the last check
            buffer = main.stdout
            cut = buffer.find(reading.marker)
            if cut >= 0:
                output = bytes(buffer[:cut])
                del buffer[: cut + len(reading.marker)]
            elif reading.sentinel is not None and not reading.sentinel.marker_sent:
                # No marker went through the pipe (its reader had ended): all output precedes the sentinel.
                at = min(reading.at, len(buffer))
                output = bytes(buffer[:at])
                del buffer[:at]
            else:
                output = bytes(buffer)
                buffer.clear()
            truncated = main.dropped or len(output) > self._output_bytes
            main.dropped = False
        if truncated:
            output = output[: self._output_bytes]
            # A marker cut by the cap leaves a prefix of itself at the end.
            tail = output.rfind(b"\x1e")
            if tail >= 0 and reading.marker.startswith(output[tail:]):
                output = output[:tail]
        exit_code: int | None = None
        sentinel = reading.sentinel
        if sentinel is not None:
            exit_code = sentinel.status
            self._keep = list(sentinel.keep)
            self.cwd = sentinel.cwd or self.cwd
            self.pid = sentinel.pid
        elif main.eof:
            # The command ended the shell (``exit``): report its status, start a new shell next time.
            exit_code = main.exit_code(time.monotonic() + 2.0)
        output = self._clean(output)
        if not finished:
            self._kill_main()
            output += b"\n[the command could not be stopped; the shell was restarted]\n"
        return ShellResult(
            output=output.decode("utf-8", errors="replace"),
            exit_code=exit_code,
            timed_out=timed_out,
            truncated=truncated,
        )

    def _kill_main(self) -> None:
        self._control_call(f"kill -9 {self.pid} {self.sid} 2>/dev/null; echo killed", b"killed\n", 2.0)
        self._main.close()
        self._main.eof = True

    def _restart(self) -> None:
        """Start a new main shell in the last known cwd (variables and functions are lost)."""
        self._main.close()
        self.restarts += 1
        old_sid, keep = self.sid, " ".join(self._keep)
        self._keep = []
        # A failed start usually means the pid limit is exhausted (a fork bomb left running): free processes
        # of the old shell's session, sparing its jobs first, then not.
        for sweep in (None, f"__pl_sweep {old_sid} {old_sid} {keep}", f"__pl_sweep {old_sid} {old_sid}"):
            if sweep is not None:
                self._control_call(sweep, b"swept", 5.0)
            try:
                self._main, self.pid = self._start_main(self.cwd)
                self.sid = self.pid
                return
            except (SandboxError, docker.errors.APIError) as error:
                failure = error
        raise SandboxError(f"the sandbox's shell could not be restarted: {failure}")

    def attached(self) -> bool:
        return not (self._main.eof or self._control.eof)

    def close(self) -> None:
        self._main.close()
        self._control.close()


# --------------------------------------------------------------------------------------------------------
# The sandbox.


# Runs one argv with a timeout enforced inside the container (timeout -k: docker exec forwards no signals)
# and both output streams capped there.
_EXEC_WRAPPER = r"""
cap=$1; t=$2; shift 2
exec 3> >(exec head -c "$cap" >&2); errpid=$!
timeout -k 2 "$t" "$@" 2>&3 | head -c "$cap"; rc=${PIPESTATUS[0]}
exec 3>&-; wait "$errpid" 2>/dev/null; exit "$rc"
"""


# PID 1 of every container: idles, reaps orphans (bash waits for any child), and survives ``kill -9 -1``
# (which spares PID 1) and the death of its sleep; docker's own --init would exit with its child.
_IDLE_INIT = "trap '' TERM INT HUP; while :; do sleep 86400 & wait $!; done"


class DockerSandbox:
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
        self._shell: _Shell | None = None
        self._shell_lock = threading.Lock()
        self._closed = False
        options: dict[str, Any] = {
            "command": ["bash", "-c", _IDLE_INIT],
            "name": self.name,
            "detach": True,
            "network_mode": "none",
            "mem_limit": f"{limits.memory_mb}m",
            "memswap_limit": f"{limits.memory_mb}m",
            "nano_cpus": int(limits.cpus * 1e9),
            "pids_limit": limits.pids,
            "labels": {LABEL: "1", OWNER_LABEL: f"{_HOSTNAME}:{os.getpid()}"},
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
                self._shell = _Shell(self._client, self.id, self.limits.output_bytes)

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
        """Type ``text`` into the persistent bash as terminal input (a task's ``start``; see ``_Shell``)."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        return self._in_shell(lambda shell: shell.type_input(text, timeout))

    def _in_shell(self, action: Callable[[_Shell], ShellResult]) -> ShellResult:
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
        """Run ``argv`` (no shell parsing) with optional stdin, cwd and environment."""
        if not argv or not all(isinstance(arg, str) for arg in argv):
            raise ValueError(f"argv must be a non-empty list of strings, got {argv!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self._check_open()
        cap = self.limits.output_bytes
        payload = input.encode() if isinstance(input, str) else (input or b"")
        started = time.monotonic()
        wrapped = ["bash", "-c", _EXEC_WRAPPER, "exec", str(cap + 1), f"{timeout:g}", *argv]
        try:
            attached = _Attached(
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

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError(f"sandbox {self.name} is closed")

    def close(self) -> None:
        """Remove the container and everything in it (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.disk_guard is not None:
            self.disk_guard.stop()
        if self._shell is not None:
            self._shell.close()
        _remove_container(self._client, self.id)

    def __enter__(self) -> DockerSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------------------------------------
# Pool and leftovers.


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_leftovers(client: docker.DockerClient | None = None) -> int:
    """Remove containers labelled by promptless runs on this host whose process is gone; returns the count."""
    client = client or docker_client()
    removed = 0
    # The low-level listing: the high-level one inspects each container and races with other runs' removals.
    containers = docker_call(client.api.containers, all=True, filters={"label": LABEL}, retries=2)
    for container in containers:
        owner = (container.get("Labels") or {}).get(OWNER_LABEL, "")
        host, _, pid = owner.rpartition(":")
        if host != _HOSTNAME or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if _remove_container(client, container["Id"]):
            removed += 1
    return removed


def _remove_container(client: docker.DockerClient, container_id: str) -> bool:
    """Force-remove a container; False when it was already gone or being removed by someone else."""
    try:
        docker_call(client.api.remove_container, container_id, force=True, retries=2)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as error:
        if error.status_code == 409:  # removal already in progress
            return False
        raise
    return True


class SandboxPool:
    """Keeps ``size`` started sandboxes (container and shell ready) so that ``acquire`` is instant.

    Each sandbox serves one episode: ``release`` destroys it, and the pool starts a fresh one in the
    background. Creating a pool first removes the containers that crashed runs left behind.
    """

    def __init__(
        self,
        image: str | None = None,
        size: int = 2,
        limits: SandboxLimits = SandboxLimits(),
    ):
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        if image is None:
            from envs.os_shell.image import ensure_image

            image = ensure_image()
        self.image = image
        self.size = size
        self.limits = limits
        self._client = docker_client()
        self.leftovers_removed = cleanup_leftovers(self._client)
        self._ready: queue.Queue[DockerSandbox | BaseException] = queue.Queue()
        self._workers = ThreadPoolExecutor(
            max_workers=max(2, min(size, 8)), thread_name_prefix="promptless-pool"
        )
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._submit(self._create_ready)

    def _submit(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                return
            future = self._workers.submit(fn)
            self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _new_sandbox(self) -> DockerSandbox:
        sandbox = DockerSandbox(self.image, self.limits, self._client)
        try:
            sandbox.start_shell()
        except BaseException:
            sandbox.close()
            raise
        return sandbox

    def _create_ready(self) -> None:
        try:
            sandbox = self._new_sandbox()
        except Exception as error:  # handed to acquire(), which raises it in the caller's thread
            self._ready.put(error)
            return
        if self._closed:
            sandbox.close()
        else:
            self._ready.put(sandbox)

    def acquire(self, timeout: float = 120.0) -> DockerSandbox:
        """A ready sandbox for one episode; a replacement starts in the background."""
        if self._closed:
            raise SandboxError("the sandbox pool is closed")
        if self.size == 0:
            return self._new_sandbox()
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self._ready.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise SandboxError(f"no sandbox became ready within {timeout:.0f} s") from None
            self._submit(self._create_ready)
            if isinstance(item, BaseException):
                raise SandboxError(f"could not start a sandbox: {item}") from item
            if item.healthy():
                return item
            self._submit(item.close)  # its container or shell died while it waited; take the next one

    def release(self, sandbox: DockerSandbox) -> None:
        """Destroy ``sandbox`` (in the background): every episode gets a fresh container."""
        with self._lock:
            if not self._closed:
                future = self._workers.submit(sandbox.close)
                self._pending.add(future)
                future.add_done_callback(self._pending.discard)
                return
        sandbox.close()

    def close(self) -> None:
        """Destroy the ready sandboxes and wait for pending creations and removals."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._workers.shutdown(wait=True)
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, DockerSandbox):
                item.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_SHARED: SandboxPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool(
    image: str | None = None,
    size: int = 2,
    limits: SandboxLimits = SandboxLimits(),
) -> SandboxPool:
    """The process-wide pool, created on first use (later arguments are ignored) and closed at exit."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED._closed:
            _SHARED = SandboxPool(image=image, size=size, limits=limits)
            atexit.register(_SHARED.close)
        return _SHARED
