"""The Docker sandbox against a real engine: exec, files, the persistent shell, limits and cleanup."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from envs.os_shell.judge_box import close_trusted
from envs.os_shell.sandbox import (
    LABEL,
    OWNER_LABEL,
    DockerSandbox,
    Sandbox,
    SandboxLimits,
    SandboxPool,
    cleanup_leftovers,
    close_shared_pool,
    docker_client,
)

pytestmark = pytest.mark.docker

OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _our_containers() -> list[dict]:
    listing = docker_client().api.containers(all=True, filters={"label": LABEL})
    return [c for c in listing if (c.get("Labels") or {}).get(OWNER_LABEL) == OWNER]


@pytest.fixture(scope="session", autouse=True)
def no_leftover_containers() -> Iterator[None]:
    """After every test of the session, no container of this process may remain."""
    yield
    close_shared_pool()
    close_trusted()  # the judge's pristine container of the image lives as long as the process
    leftovers = [c["Names"] for c in _our_containers()]
    assert leftovers == [], f"containers left behind: {leftovers}"


@pytest.fixture(scope="module")
def pool(docker_image: str) -> Iterator[SandboxPool]:
    with SandboxPool(docker_image, size=2) as pool:
        yield pool


@pytest.fixture
def box(pool: SandboxPool) -> Iterator[DockerSandbox]:
    sandbox = pool.acquire()
    yield sandbox
    pool.release(sandbox)


# ----------------------------------------------------------------------------------------------- exec


def test_sandbox_satisfies_the_protocol(box: DockerSandbox) -> None:
    assert isinstance(box, Sandbox)


def test_exec_returncode_stdout_stderr(box: DockerSandbox) -> None:
    result = box.exec(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.timed_out and not result.truncated
    # Arguments are passed as a list, never re-parsed by a shell.
    assert box.exec(["echo", "$HOME; rm -rf /", "'q'"]).stdout == "$HOME; rm -rf / 'q'\n"


def test_exec_stdin_cwd_env(box: DockerSandbox) -> None:
    assert box.exec(["cat"], input="line1\nline2").stdout == "line1\nline2"
    assert box.exec(["pwd"], cwd="/tmp").stdout == "/tmp\n"
    assert box.exec(["sh", "-c", 'echo "$FOO"'], env={"FOO": "bar baz"}).stdout == "bar baz\n"
    with pytest.raises(NotADirectoryError):
        box.exec(["pwd"], cwd="/no/such/dir")
    with pytest.raises(ValueError, match="argv"):
        box.exec([])


def test_exec_utf8_and_invalid_bytes(box: DockerSandbox) -> None:
    assert box.exec(["printf", "héllo ✓ 日本"]).stdout == "héllo ✓ 日本"
    assert box.exec(["printf", "a\\377b"]).stdout == "a\ufffdb"


def test_exec_timeout_kills_the_process_tree(box: DockerSandbox) -> None:
    start = time.monotonic()
    result = box.exec(["sh", "-c", "sleep 300 & sleep 301"], timeout=1)
    assert result.timed_out
    assert time.monotonic() - start < 6
    # The container's own idle process is `sleep infinity`; the command's sleeps, child included, are gone.
    listing = box.exec(["ps", "-eo", "args="]).stdout.splitlines()
    assert not any(line.startswith(("sleep 300", "sleep 301")) for line in listing)


def test_exec_output_is_capped_at_the_source(box: DockerSandbox) -> None:
    result = box.exec(["yes"], timeout=10)
    assert result.truncated
    assert len(result.stdout) == box.limits.output_bytes
    assert not result.timed_out  # yes died of SIGPIPE when the cap closed the pipe


# ---------------------------------------------------------------------------------------------- files


def test_write_and_read_files(box: DockerSandbox) -> None:
    box.write_file("/tmp/deep/dir/a.txt", "héllo\n")
    assert box.read_file("/tmp/deep/dir/a.txt") == "héllo\n".encode()
    blob = bytes(range(256)) * 100
    box.write_file("rel/blob.bin", blob)  # relative paths live under /root
    assert box.read_file("/root/rel/blob.bin") == blob
    assert box.exec(["cat", "/tmp/deep/dir/a.txt"]).stdout == "héllo\n"
    box.exec(["ln", "-s", "/tmp/deep/dir/a.txt", "/tmp/link"])
    assert box.read_file("/tmp/link") == "héllo\n".encode()


def test_read_missing_file_and_directory(box: DockerSandbox) -> None:
    with pytest.raises(FileNotFoundError):
        box.read_file("/no/such/file")
    with pytest.raises(IsADirectoryError):
        box.read_file("/etc")


# ---------------------------------------------------------------------------------------------- shell


def test_shell_state_persists_across_calls(box: DockerSandbox) -> None:
    assert box.shell("cd /tmp && mkdir -p work && cd work").exit_code == 0
    box.shell('X=41; greet() { echo "hi $1"; }; export Y=exported')
    result = box.shell('echo "$((X + 1)) $PWD $Y"; greet bob')
    assert result.output == "42 /tmp/work exported\nhi bob\n"
    assert result.exit_code == 0


def test_shell_exit_codes_stderr_and_quoting(box: DockerSandbox) -> None:
    assert box.shell("false").exit_code == 1
    assert box.shell("echo err >&2; echo out").output == "err\nout\n"
    tricky = "printf '%s|' \"it's\" 'a\"b' $'tab\\there' 'back\\\\slash' '!bang'"
    assert box.shell(tricky).output == "it's|a\"b|tab\there|back\\\\slash|!bang|"
    assert box.shell("for i in 1 2; do\n  echo n$i\ndone\necho end").output == "n1\nn2\nend\n"
    assert box.shell("echo 'unterminated").exit_code == 2  # a syntax error, not a hung shell
    assert box.shell("echo still here").output == "still here\n"


def test_shell_utf8_and_invalid_bytes(box: DockerSandbox) -> None:
    assert box.shell("echo 'héllo ✓ 日本'").output == "héllo ✓ 日本\n"
    assert box.shell("printf 'a\\377b'").output == "a\ufffdb"


def test_shell_commands_cannot_read_the_wrapper_input(box: DockerSandbox) -> None:
    result = box.shell('read line; echo "got [$line] $?"; cat; echo done', timeout=5)
    assert result.output == "got [] 1\ndone\n"
    assert box.shell("echo next").output == "next\n"


@pytest.mark.slow
def test_shell_timeout_kills_the_command_and_keeps_the_shell(box: DockerSandbox) -> None:
    box.shell("cd /tmp; X=7")
    for endless in (
        "sleep 300; echo never",
        "while :; do :; done",  # a loop inside the shell itself
        "while true; do sleep 1; done",
        "python3 -c 'import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(300)'",
        "sh -c 'sleep 302 & sleep 303'",
    ):
        start = time.monotonic()
        result = box.shell(endless, timeout=1)
        elapsed = time.monotonic() - start
        assert result.timed_out, endless
        assert "never" not in result.output
        assert "restarted" not in result.output, endless
        assert elapsed < 1 + 4, f"{endless!r} took {elapsed:.1f} s"
        assert box.shell("echo $X $PWD").output == "7 /tmp\n", endless
    listing = box.exec(["ps", "-eo", "args="]).stdout
    for leftover in ("sleep 300", "sleep 1", "python3", "sleep 302", "sleep 303"):
        assert leftover not in listing


def test_partial_output_of_a_timed_out_command_is_returned(box: DockerSandbox) -> None:
    result = box.shell("echo started; sleep 300", timeout=1)
    assert result.timed_out and result.output == "started\n"


@pytest.mark.slow
def test_background_jobs_keep_running(box: DockerSandbox) -> None:
    # AgentBench's dev tasks start such a writer through their `start` field.
    writer = (
        'python3 -c \'import time\nwhile True:\n\twith open("/root/log", "a+") as f:\n'
        '\t\tf.write("succeed")\n\ttime.sleep(0.2)\' &'
    )
    started = box.shell(writer)
    assert started.exit_code == 0 and not started.timed_out
    time.sleep(0.6)
    first = len(box.read_file("/root/log"))
    # A command that times out must not take the earlier background job down with it.
    assert box.shell("tail -f /root/log", timeout=1).timed_out
    time.sleep(0.6)
    assert len(box.read_file("/root/log")) > first
    assert "Running" in box.shell("jobs").output


def test_runaway_output_is_capped(box: DockerSandbox) -> None:
    start = time.monotonic()
    result = box.shell("yes", timeout=10)
    assert result.truncated and not result.timed_out
    assert len(result.output) == box.limits.output_bytes
    assert time.monotonic() - start < 5
    assert box.shell("echo ok").output == "ok\n"


def test_memory_hog_is_killed_by_the_limit(box: DockerSandbox) -> None:
    result = box.shell("python3 -c 'x = bytearray(2 * 1024**3); print(len(x))'; echo rc=$?", timeout=30)
    assert not result.timed_out
    assert "rc=137" in result.output  # OOM-killed inside the container
    assert box.shell("echo alive").output == "alive\n"


@pytest.mark.slow
def test_fork_bomb_is_contained(box: DockerSandbox) -> None:
    start = time.monotonic()
    result = box.shell("bomb() { bomb | bomb & }; bomb; sleep 300", timeout=5)
    assert time.monotonic() - start < 5 + 10
    assert result.timed_out
    assert "Resource temporarily unavailable" in result.output  # the pid limit stopped it
    # The timeout swept the command's whole tree, background bombs included: the shell is clean again.
    assert box.shell("echo alive", timeout=10).output == "alive\n"
    cgroup = box.shell("cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max").output
    assert cgroup.strip() == str(box.limits.pids)
    assert int(box.shell("ps -e --no-headers | wc -l").output) < 20


def test_network_is_unreachable(box: DockerSandbox) -> None:
    probe = "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n    print('connected')\nexcept OSError as e:\n    print('blocked', e.errno)"
    result = box.exec(["python3", "-c", probe], timeout=10)
    assert result.stdout.startswith("blocked")
    links = box.exec(["ip", "-o", "link"]).stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
    attrs = docker_client().api.inspect_container(box.id)["HostConfig"]
    assert attrs["NetworkMode"] == "none"
    assert attrs["Memory"] == box.limits.memory_mb * 2**20
    assert attrs["NanoCpus"] == int(box.limits.cpus * 1e9)


def test_killing_every_process_leaves_a_working_shell(box: DockerSandbox) -> None:
    box.shell("cd /srv")
    box.shell("kill -9 -1")  # as root: every process but the shell itself and the container's init
    result = box.shell("sleep 300", timeout=1)
    assert result.timed_out
    assert box.shell("echo $PWD").output == "/srv\n"


def test_orphans_are_reaped(box: DockerSandbox) -> None:
    box.shell("for i in 1 2 3; do (sleep 0.1 &); done; sleep 0.5")
    assert box.shell("ps -eo stat= | grep -c '^Z'").output == "0\n"


def test_exit_ends_the_shell_and_a_new_one_starts(box: DockerSandbox) -> None:
    box.shell("cd /usr")
    result = box.shell("exit 3")
    assert result.exit_code == 3
    assert box.shell("echo $PWD").output == "/usr\n"


# ----------------------------------------------------------------------------------- pool and cleanup


def test_pool_hands_out_fresh_started_containers(pool: SandboxPool) -> None:
    first, second = pool.acquire(), pool.acquire()
    try:
        assert first.id != second.id
        assert first.name != second.name
        labels = docker_client().api.inspect_container(first.id)["Config"]["Labels"]
        assert labels[LABEL] == "1" and labels[OWNER_LABEL] == OWNER
        first.shell("touch /root/mark")
        assert second.exec(["test", "-e", "/root/mark"]).returncode == 1
    finally:
        pool.release(first)
        pool.release(second)
    time.sleep(0.1)
    start = time.monotonic()
    deadline = start + 30
    while any(c["Id"] == first.id for c in _our_containers()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(c["Id"] != first.id for c in _our_containers()), "release() must destroy the container"


def test_pool_acquire_is_fast_when_warm(docker_image: str) -> None:
    with SandboxPool(docker_image, size=1) as pool:
        sandbox = pool.acquire(timeout=60)  # waits for the first start
        pool.release(sandbox)
        time.sleep(0.2)
        deadline = time.monotonic() + 30
        while pool._ready.qsize() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        start = time.monotonic()
        sandbox = pool.acquire()
        elapsed = time.monotonic() - start
        assert sandbox.shell("echo ready").output == "ready\n"
        pool.release(sandbox)
    assert elapsed < 0.5


def test_acquire_skips_a_sandbox_that_died_while_waiting(docker_image: str) -> None:
    with SandboxPool(docker_image, size=1) as pool:
        doomed = pool.acquire(timeout=60)
        pool.release(doomed)
        deadline = time.monotonic() + 30
        while pool._ready.qsize() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        waiting = pool._ready.queue[0]
        assert isinstance(waiting, DockerSandbox)
        docker_client().api.kill(waiting.id)
        deadline = time.monotonic() + 10
        while waiting.healthy() and time.monotonic() < deadline:
            time.sleep(0.05)
        sandbox = pool.acquire(timeout=60)
        assert sandbox.id != waiting.id
        assert sandbox.shell("echo fine").output == "fine\n"
        pool.release(sandbox)


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        SandboxLimits(memory_mb=1)
    with pytest.raises(ValueError):
        SandboxLimits(output_bytes=0)


_KILLED_RUNNER = textwrap.dedent(
    """
    import sys, time
    from envs.os_shell.sandbox import SandboxPool
    pool = SandboxPool(sys.argv[1], size=2)
    boxes = [pool.acquire(), pool.acquire()]
    print(" ".join(box.id for box in boxes), flush=True)
    time.sleep(600)
    """
)


@pytest.mark.slow
def test_containers_of_a_killed_run_are_removed_on_the_next_start(docker_image: str) -> None:
    runner = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUNNER, docker_image],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert runner.stdout is not None
    ids = runner.stdout.readline().split()
    assert len(ids) == 2
    runner.send_signal(signal.SIGKILL)
    runner.wait(timeout=30)
    client = docker_client()

    def alive() -> set[str]:
        return {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}

    def owned_by_runner() -> list[str]:
        owner = f"{socket.gethostname()}:{runner.pid}"
        listing = client.api.containers(all=True, filters={"label": f"{OWNER_LABEL}={owner}"})
        return [c["Id"] for c in listing]

    # Acquired ones plus the pool's warm spares are all left behind by SIGKILL.
    assert set(ids) <= alive()
    with SandboxPool(docker_image, size=0) as fresh:
        assert fresh.leftovers_removed >= 2
    assert not set(ids) & alive()
    # A create the runner sent just before dying may land late; the next cleanup takes it too.
    deadline = time.monotonic() + 15
    while owned_by_runner() and time.monotonic() < deadline:
        cleanup_leftovers(client)
        time.sleep(0.5)
    assert owned_by_runner() == []
