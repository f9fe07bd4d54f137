"""The episode's persistent bash inside a container, and the fork-free control shell that guards it.

A command is sent as one line: ``eval`` of its text with stdin from /dev/null and output through a fresh
``head -c`` (the cap applies inside the container), then a marker through that same pipe and a sentinel that
carries the exit status; the host reads until it has both, never "until N s of silence". On timeout the control
shell sends SIGINT to the shell's process group (Ctrl-C), then SIGKILLs what is left of the command's tree,
sparing the shell and the background jobs that ran before the command. The helpers' bash source is in
``shell_init.sh`` and ``control_init.sh`` beside this module (package data, checked by shellcheck in the tests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import secrets
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources

import docker
import docker.errors

from envs.os_shell.sandbox.attached import AttachedExec
from envs.os_shell.sandbox.base import SandboxError, ShellResult


@cache
def script(name: str) -> str:
    """A helper script of this package, without its leading comment lines (the shell need not read them)."""
    text = resources.files("envs.os_shell.sandbox").joinpath(name).read_text()
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


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

    def done(self, main: AttachedExec) -> bool:
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


class PersistentShell:
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

    def _start_control(self) -> AttachedExec:
        control = AttachedExec(self._client, self._container_id, ["bash", "--norc", "--noprofile"])
        control.start(script("control_init.sh").encode())
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

    def _start_main(self, cwd: str) -> tuple[AttachedExec, int]:
        # setsid: the shell gets its own session and process group, so SIGINT/SIGKILL sweeps can target the
        # command's processes and nothing else; its own stderr (prompts, job notices) is dropped.
        main = AttachedExec(
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
        text = script("shell_init.sh").replace("__PL_LIMIT__", str(self._output_bytes + 1))
        return text.replace("__PL_WORDS__", _GUARDED_WORDS).replace("__PL_CD__\n", cd)

    def _await_ready(self, main: AttachedExec) -> list[int]:
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

    def _collect(self, main: AttachedExec, reading: _Reading, timed_out: bool, finished: bool) -> ShellResult:
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
