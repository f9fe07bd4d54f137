"""``SandboxPool``: started sandboxes kept ready so that an episode never waits for a container, and the
process-wide pool the OS environment shares."""

from __future__ import annotations

import atexit
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from envs.os_shell.sandbox.base import SandboxError, SandboxLimits
from envs.os_shell.sandbox.client import cleanup_leftovers, docker_client
from envs.os_shell.sandbox.docker_sandbox import DockerSandbox


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


def close_shared_pool() -> None:
    """Close the process-wide pool now, if one was created (tests call it to leave no container behind)."""
    with _SHARED_LOCK:
        if _SHARED is not None:
            _SHARED.close()
