"""A micro-batcher: calls from many threads (concurrent episodes) gathered into batches for one model.

A local model answers several requests in one forward pass for about the price of one, but each episode
asks for one reply at a time from its own thread. The batcher sits between them: callers ``call(item)``
and block; one worker thread takes the first queued item, waits up to ``wait_s`` for more (at most
``max_batch`` in all) and hands the batch to ``run``, which returns one result or exception per item, in
order. Every model call of its owner goes through that one thread, so the model itself needs no lock.

A failure never hangs a caller or kills the worker: an exception ``run`` returns for an item goes to that
item's caller, one that ``run`` raises goes to every caller of the batch, and the next batch runs as usual.
``close()`` answers the calls queued before it, then stops the worker; a call made after it fails at once
with ``closed_error()``.

Example::

    batcher = MicroBatcher(lambda prompts: [model.complete(p) for p in prompts], max_batch=8)
    text = batcher.call("hello")        # from any thread
    batcher.close()
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BatcherClosed(RuntimeError):
    """A call reached a batcher that was closed."""


class MicroBatcher(Generic[T, R]):
    """One worker thread that runs queued items in batches of up to ``max_batch`` through ``run``."""

    def __init__(
        self,
        run: Callable[[list[T]], Sequence[R | Exception]],
        *,
        max_batch: int = 8,
        wait_s: float = 0.005,
        name: str = "batcher",
        closed_error: Callable[[], Exception] | None = None,
    ):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if wait_s < 0:
            raise ValueError(f"wait_s must be >= 0, got {wait_s}")
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.name = name
        self._run = run
        self._closed_error = closed_error or (lambda: BatcherClosed(f"{name} was closed"))
        self._queue: queue.Queue[tuple[T, Future[R]] | None] = queue.Queue()
        # Held while checking ``closed`` and queueing, and while closing: no item lands behind the stop mark.
        self._lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()

    def submit(self, item: T) -> Future[R]:
        """Queue ``item``; its future gets ``run``'s result for it (or the exception)."""
        future: Future[R] = Future()
        with self._lock:
            if self.closed:
                raise self._closed_error()
            self._queue.put((item, future))
        return future

    def call(self, item: T) -> R:
        """``run``'s result for ``item``, blocking until its batch ran; its exception is raised here."""
        return self.submit(item).result()

    def close(self, timeout: float = 60.0) -> None:
        """Answer the calls queued so far, stop the worker, and refuse later calls."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._queue.put(None)
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=timeout)
        while True:  # left only when the worker outlived the timeout: fail them rather than hang them
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                break
            if entry is not None and entry[1].set_running_or_notify_cancel():
                entry[1].set_exception(self._closed_error())
        if self.thread.is_alive():  # the stop mark may have been drained: the worker ends when its batch does
            self._queue.put(None)

    # ------------------------------------------------------------------------------------------------ worker
    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            closing = False
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.max_batch:
                try:
                    entry = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if entry is None:
                    closing = True
                    break
                batch.append(entry)
            self._answer(batch)
            if closing:
                return

    def _answer(self, batch: list[tuple[T, Future[R]]]) -> None:
        live = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = list(self._run([item for item, _ in live]))
            if len(results) != len(live):
                raise RuntimeError(f"{self.name}: run returned {len(results)} results for {len(live)} items")
        except Exception as exc:  # every caller of the batch gets the error; the worker lives on
            for _, future in live:
                future.set_exception(exc)
            return
        for (_, future), result in zip(live, results, strict=True):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
