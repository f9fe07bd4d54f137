"""A run ends with no container left and an honest summary: after episodes given up at their deadline, and
when stopped by SIGINT or SIGTERM (``docker stop``, a batch scheduler) in the middle of episodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.conftest import REPO, cli_env

OS_RUN = ["--agent", "toy-oracle", "--env", "os", "--split", "test", "--limit", "2", "--concurrency", "2"]


def _default_sigint() -> None:
    """Give the child the default SIGINT disposition: a shell starts background jobs (a CI script's
    ``cmd &``) with SIGINT ignored, the child would inherit that, and Ctrl-C is what the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], out: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.run", *args, "--out", str(out)],
        cwd=REPO,
        env=cli_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def _wait_for(condition, timeout: float, proc: subprocess.Popen[str]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended early: {proc.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "timed out waiting for the run"
        time.sleep(0.1)


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_a_signal_mid_run_writes_an_interrupted_summary(tmp_path: Path, sig: int, status: int) -> None:
    out = tmp_path / "run"
    args = ["--agent", "toy-oracle", "--env", "toy", "--limit", "30", "--concurrency", "2"]
    proc = _start(args, out, TOY_AGENT_DELAY="0.2")
    try:
        _wait_for(
            lambda: (out / "episodes.jsonl").exists() and (out / "episodes.jsonl").stat().st_size > 0,
            30,
            proc,
        )
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == status, err
    assert "Traceback" not in err and "continue with --resume" in err
    summary = _summary(out)
    assert summary["status"] == "interrupted" and 0 < summary["episodes"] < 30


# --- with a real Docker engine --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def os_image() -> str:
    """The OS image, built if missing; fails (never skips) without a Docker engine, as the env tests do."""
    from envs.os_shell.image import ImageBuildError, ensure_image
    from envs.os_shell.sandbox import SandboxError, docker_client

    try:
        docker_client()
        return ensure_image()
    except (SandboxError, ImageBuildError) as error:
        pytest.fail(f"the Docker tests need an engine and the OS image (run scripts/setup.sh): {error}")


def _containers_of(pid: int) -> list[str]:
    """Names of the containers that the run with process id ``pid`` started and has not removed."""
    from envs.os_shell.sandbox import HOSTNAME, OWNER_LABEL, docker_client

    listing = docker_client().api.containers(all=True, filters={"label": f"{OWNER_LABEL}={HOSTNAME}:{pid}"})
    return [c["Names"][0] for c in listing]


@pytest.fixture
def reaper() -> Iterator[list[int]]:
    """Pids of the runs a test started; their containers are removed afterwards whatever happened."""
    pids: list[int] = []
    yield pids
    from envs.os_shell.sandbox import HOSTNAME, OWNER_LABEL, docker_client

    client = docker_client()
    for pid in pids:
        for c in client.api.containers(all=True, filters={"label": f"{OWNER_LABEL}={HOSTNAME}:{pid}"}):
            client.api.remove_container(c["Id"], force=True)


@pytest.mark.docker
@pytest.mark.slow
def test_episodes_given_up_at_their_deadline_leave_no_container(
    tmp_path: Path, os_image: str, reaper: list[int]
) -> None:
    out = tmp_path / "run"
    # Every reply takes a minute: both episodes are given up at 8 s, their threads still holding a sandbox.
    proc = _start([*OS_RUN, "--episode-timeout", "8"], out, TOY_AGENT_DELAY="60")
    reaper.append(proc.pid)
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    # Every episode errored: the run fails (--fail-on-error), and still leaves nothing behind.
    assert proc.returncode == 3, err
    records = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [r["error"] for r in records] == ["EpisodeTimeout: no result after 8 s"] * 2
    assert _summary(out)["status"] == "failed"
    assert _containers_of(proc.pid) == []


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_a_signal_mid_episode_leaves_no_container(
    tmp_path: Path, os_image: str, reaper: list[int], sig: int, status: int
) -> None:
    out = tmp_path / "run"
    proc = _start(OS_RUN, out, TOY_AGENT_DELAY="60")
    reaper.append(proc.pid)
    try:
        # Two episodes in flight: the pool has started containers and handed them out.
        _wait_for(lambda: len(_containers_of(proc.pid)) >= 2 and (out / "summary.json").exists(), 90, proc)
        time.sleep(3)
        assert _summary(out)["status"] == "running"
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == status, err
    assert "Traceback" not in err
    assert _summary(out)["status"] == "interrupted"
    assert _containers_of(proc.pid) == []
