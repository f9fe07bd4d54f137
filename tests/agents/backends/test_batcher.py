"""The micro-batcher: concurrent calls gathered into batches, each caller answered with its own result or
error, and close() answering what was queued before failing what came after."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from agents.backends.batcher import BatcherClosed, MicroBatcher


def concurrently(batcher: MicroBatcher[int, int], items: list[int]) -> list[int | Exception]:
    """Each item called from its own thread, all released together; the result or the exception per item."""
    barrier = threading.Barrier(len(items))

    def one(item: int) -> int | Exception:
        barrier.wait()
        try:
            return batcher.call(item)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(one, items))


def test_results_reach_their_own_callers_in_shared_batches() -> None:
    sizes: list[int] = []

    def run(items: list[int]) -> list[int | Exception]:
        sizes.append(len(items))
        return [10 * x for x in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=4, wait_s=0.3)
    try:
        items = list(range(1, 8))
        assert concurrently(batcher, items) == [10 * x for x in items]
    finally:
        batcher.close()
    assert sum(sizes) == 7 and max(sizes) <= 4
    assert len(sizes) < 7, "concurrent calls should share batches"


def test_a_returned_exception_goes_to_its_caller_alone() -> None:
    def run(items: list[int]) -> list[int | Exception]:
        return [ValueError(f"odd {x}") if x % 2 else x for x in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(run, wait_s=0.2)
    try:
        results = concurrently(batcher, [1, 2, 3, 4])
    finally:
        batcher.close()
    assert results[1] == 2 and results[3] == 4
    assert isinstance(results[0], ValueError) and str(results[0]) == "odd 1"
    assert isinstance(results[2], ValueError) and str(results[2]) == "odd 3"


def test_a_raised_exception_fails_the_whole_batch_and_the_worker_lives_on() -> None:
    calls = 0

    def run(items: list[int]) -> list[int | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("model exploded")
        return [x + 1 for x in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=8, wait_s=0.3)
    try:
        first = concurrently(batcher, [1, 2, 3])
        assert calls == 1, "the three calls should have been one batch"
        assert all(isinstance(r, RuntimeError) and str(r) == "model exploded" for r in first)
        assert batcher.call(5) == 6
        assert batcher.thread.is_alive()
    finally:
        batcher.close()


def test_a_wrong_number_of_results_is_an_error_not_a_hang() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(lambda items: [], name="short")
    try:
        with pytest.raises(RuntimeError, match="short: run returned 0 results for 1 items"):
            batcher.call(1)
    finally:
        batcher.close()


def test_close_answers_queued_calls_then_refuses_new_ones() -> None:
    started, release = threading.Event(), threading.Event()

    def run(items: list[int]) -> list[int | Exception]:
        started.set()
        release.wait(10)
        return [-x for x in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=1, wait_s=0.0, name="demo")
    running = batcher.submit(1)
    assert started.wait(10)
    queued = [batcher.submit(2), batcher.submit(3)]  # behind the running batch
    closer = threading.Thread(target=batcher.close)
    closer.start()
    release.set()
    closer.join(10)
    assert running.result(1) == -1 and [f.result(1) for f in queued] == [-2, -3]
    assert not batcher.thread.is_alive()
    with pytest.raises(BatcherClosed, match="demo was closed"):
        batcher.call(4)
    batcher.close()  # a second close is harmless


def test_close_fails_calls_a_stuck_worker_never_reached() -> None:
    started, release = threading.Event(), threading.Event()

    def run(items: list[int]) -> list[int | Exception]:
        started.set()
        release.wait(10)
        return list(items)

    batcher: MicroBatcher[int, int] = MicroBatcher(
        run, max_batch=1, wait_s=0.0, closed_error=lambda: ConnectionError("backend gone")
    )
    running = batcher.submit(1)
    assert started.wait(10)
    stranded = batcher.submit(2)
    batcher.close(timeout=0.05)  # the worker is still inside run
    with pytest.raises(ConnectionError, match="backend gone"):
        stranded.result(1)
    release.set()
    assert running.result(10) == 1  # the batch that was running still gets its answer
    batcher.thread.join(10)
    assert not batcher.thread.is_alive()  # and the worker ends after it
    with pytest.raises(ConnectionError, match="backend gone"):
        batcher.submit(3)


def test_bad_settings_fail_clearly() -> None:
    with pytest.raises(ValueError, match="max_batch must be >= 1"):
        MicroBatcher(lambda items: items, max_batch=0)
    with pytest.raises(ValueError, match="wait_s must be >= 0"):
        MicroBatcher(lambda items: items, wait_s=-1)
