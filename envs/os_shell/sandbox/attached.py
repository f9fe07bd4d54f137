"""One ``docker exec`` session with stdin attached over the engine's socket, its output demultiplexed into
buffers by a reader thread: the transport of the persistent shell and of ``DockerSandbox.exec``."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable

import docker

from envs.os_shell.sandbox.client import docker_call


class AttachedExec:
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
