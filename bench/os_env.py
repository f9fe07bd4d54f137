"""Speed of ``promptless/OS-v0``: reset latency, step latency, oracle episodes per second.

Measured in one run against a naive baseline in the same process: a fresh container per episode (``docker
run``) and a fresh ``docker exec`` per command, which is what AgentBench does minus its wait for 5 s of
silence after each command (that wait alone would add 5 s per step; it is left out so that the baseline is
the fastest naive design, not a strawman). The baseline has no persistent shell, so ``cd`` would not persist.

    .venv/bin/python bench/os_env.py [--episodes 24] [--resets 20] [--steps 70] [--pool-size 4]

Reset latency is timed from a warm pool and step latency with no container being created or removed in
the background; the oracle runs are timed with the pool refilling as it goes, as in a real run.

Ends with one JSON line of figures (``reset_p50_ms``, ``step_p50_ms``, ...).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import docker

from envs.os_shell.env import OSEnv
from envs.os_shell.image import ensure_image
from envs.os_shell.judge import judge
from envs.os_shell.sandbox import SandboxPool
from envs.os_shell.tasks import OSTask, generate_split

TASKS = "test"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def run_threads(worker: Callable[[], None], n: int) -> float:
    """Run ``worker`` in ``n`` threads at once and return the wall seconds until the last one finished."""
    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def wait_warm(pool: SandboxPool, n: int = 1) -> None:
    """Wait until the pool holds ``n`` ready sandboxes: reset latency is quoted for a warm pool."""
    deadline = time.monotonic() + 60
    while pool._ready.qsize() < n and time.monotonic() < deadline:
        time.sleep(0.02)


def wait_idle(pool: SandboxPool) -> None:
    """Wait until the pool is full and no container is being created or removed in the background."""
    deadline = time.monotonic() + 60
    while (pool._pending or pool._ready.qsize() < pool.size) and time.monotonic() < deadline:
        time.sleep(0.02)


# -- the env ---------------------------------------------------------------------------------------------------


def env_resets(pool: SandboxPool, n: int) -> list[float]:
    env = OSEnv(split=TASKS, pool=pool)
    times = []
    for i in range(n):
        wait_warm(pool)
        start = time.perf_counter()
        env.reset(options={"task_id": env.task_ids()[i % len(env.task_ids())]})
        times.append(time.perf_counter() - start)
    env.close()
    return times


def env_steps(pool: SandboxPool, n: int) -> list[float]:
    env = OSEnv(split=TASKS, limit=1, pool=pool)
    times = []
    while len(times) < n:
        env.reset(options={"task_id": env.task_ids()[0]})
        wait_idle(pool)  # time the shell, not the pool's background container churn
        for _ in range(env.round_limit - 1):  # stay below the round limit: no episode end in the timing
            start = time.perf_counter()
            env.step("Think: test.\n\nAct: bash\n\n```bash\necho hi\n```")
            times.append(time.perf_counter() - start)
    env.close()
    return times[:n]


def env_oracle(pool: SandboxPool, task_ids: list[str], concurrency: int) -> tuple[float, float]:
    """Episodes per second and mean score of the oracle over ``task_ids``, ``concurrency`` threads."""
    scores: list[float] = []
    lock = threading.Lock()
    todo = list(task_ids)

    def worker() -> None:
        env = OSEnv(split=TASKS, pool=pool)
        while True:
            with lock:
                if not todo:
                    break
                tid = todo.pop()
            env.reset(options={"task_id": tid})
            while True:
                _, _, terminated, truncated, info = env.step(env.oracle_reply())
                if terminated or truncated:
                    break
            with lock:
                scores.append(info["score"])
        env.close()

    wait_warm(pool, min(concurrency, pool.size))
    return len(task_ids) / run_threads(worker, concurrency), statistics.mean(scores)


# -- the naive baseline ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Exec:
    returncode: int
    stdout: str
    timed_out: bool = False


class NaiveContainer:
    """One ``docker run`` per episode, one ``docker exec`` per command (no persistent shell)."""

    def __init__(self, client: docker.DockerClient, image: str):
        self.container = client.containers.run(
            image, ["sleep", "infinity"], detach=True, network_mode="none", labels={"promptless": "1"}
        )

    def exec(
        self, argv: list[str], input: Any = None, cwd: Any = None, env: Any = None, timeout: float = 30.0
    ):
        result = self.container.exec_run(argv, demux=True)
        out = (result.output[0] or b"").decode("utf-8", errors="replace")
        return _Exec(result.exit_code, out)

    def command(self, script: str) -> str:
        return self.exec(["bash", "-c", script]).stdout

    def close(self) -> None:
        self.container.remove(force=True)


def naive_reset(client: docker.DockerClient, image: str, task: OSTask) -> NaiveContainer:
    box = NaiveContainer(client, image)
    for script in task.init:
        box.exec(script.argv())
    if task.start:
        box.container.exec_run(["bash", "-c", task.start], detach=True)
    return box


def naive_resets(client: docker.DockerClient, image: str, tasks: list[OSTask], n: int) -> list[float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        box = naive_reset(client, image, tasks[i % len(tasks)])
        times.append(time.perf_counter() - start)
        box.close()
    return times


def naive_steps(client: docker.DockerClient, image: str, n: int) -> list[float]:
    box = NaiveContainer(client, image)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        box.command("echo hi")
        times.append(time.perf_counter() - start)
    box.close()
    return times


def naive_oracle(
    client: docker.DockerClient, image: str, tasks: list[OSTask], concurrency: int
) -> tuple[float, float]:
    scores: list[float] = []
    lock = threading.Lock()
    todo = list(tasks)

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    break
                task = todo.pop()
            box = naive_reset(client, image, task)
            output = box.command(task.reference or "")
            answer = output.strip() if task.expects_answer else None
            verdict = judge(task, answer, box)
            box.close()
            with lock:
                scores.append(verdict.score)

    return len(tasks) / run_threads(worker, concurrency), statistics.mean(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=24, help="oracle episodes per concurrency level")
    parser.add_argument("--resets", type=int, default=20, help="resets timed (each from a warm pool)")
    parser.add_argument("--steps", type=int, default=70, help="`echo hi` steps timed")
    parser.add_argument("--pool-size", type=int, default=4, help="ready sandboxes kept by the pool")
    args = parser.parse_args()
    image = ensure_image()
    client = docker.from_env()
    tasks = generate_split(TASKS, limit=args.episodes)
    ids = [t.id for t in tasks]

    with SandboxPool(image, size=args.pool_size) as pool:
        wait_warm(pool, args.pool_size)
        resets = env_resets(pool, args.resets)
        steps = env_steps(pool, args.steps)
        eps1, score1 = env_oracle(pool, ids, 1)
        eps4, score4 = env_oracle(pool, ids, 4)
    base_resets = naive_resets(client, image, tasks, max(5, args.resets // 4))
    base_steps = naive_steps(client, image, args.steps)
    base_eps1, base_score1 = naive_oracle(client, image, tasks, 1)
    base_eps4, base_score4 = naive_oracle(client, image, tasks, 4)

    figures = {
        "reset_p50_ms": ms(statistics.median(resets)),
        "reset_p95_ms": ms(percentile(resets, 0.95)),
        "step_p50_ms": ms(statistics.median(steps)),
        "step_p95_ms": ms(percentile(steps, 0.95)),
        "oracle_episodes_per_s_c1": round(eps1, 2),
        "oracle_episodes_per_s_c4": round(eps4, 2),
        "oracle_score_c1": score1,
        "oracle_score_c4": score4,
        "baseline_reset_p50_ms": ms(statistics.median(base_resets)),
        "baseline_step_p50_ms": ms(statistics.median(base_steps)),
        "baseline_step_p95_ms": ms(percentile(base_steps, 0.95)),
        "baseline_episodes_per_s_c1": round(base_eps1, 2),
        "baseline_episodes_per_s_c4": round(base_eps4, 2),
        "baseline_score_c1": base_score1,
        "baseline_score_c4": base_score4,
        "episodes": len(ids),
        "pool_size": args.pool_size,
    }
    rows = [
        (
            "reset p50 (warm pool vs docker run + init)",
            figures["reset_p50_ms"],
            figures["baseline_reset_p50_ms"],
            "ms",
        ),
        (
            "step p50 (`echo hi`: persistent shell vs docker exec)",
            figures["step_p50_ms"],
            figures["baseline_step_p50_ms"],
            "ms",
        ),
        ("step p95", figures["step_p95_ms"], figures["baseline_step_p95_ms"], "ms"),
        (
            "oracle episodes/s, 1 thread",
            figures["oracle_episodes_per_s_c1"],
            figures["baseline_episodes_per_s_c1"],
            "/s",
        ),
        (
            "oracle episodes/s, 4 threads",
            figures["oracle_episodes_per_s_c4"],
            figures["baseline_episodes_per_s_c4"],
            "/s",
        ),
    ]
    print(f"{'figure':58} {'env':>9} {'baseline':>9} {'speed-up':>9}")
    for name, ours, base, unit in rows:
        speedup = base / ours if unit == "ms" else ours / base
        print(f"{name:58} {ours:>9} {base:>9} {speedup:>8.1f}x")
    print(
        f"goals: reset p50 <= 100 ms: {figures['reset_p50_ms'] <= 100}; step p50 <= 20 ms: {figures['step_p50_ms'] <= 20}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
