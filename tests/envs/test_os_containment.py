"""Attacks on the OS env's protocol, judge and limits, each in a real Docker container: faking the judge by
replacing interpreters, subverting the persistent shell, filling the disk, leaking init output, and a
``start`` that takes the shell over."""

from __future__ import annotations

import json
import shutil

import pytest

from envs.os_shell.env import OSEnv
from envs.os_shell.sandbox import DockerSandbox, SandboxLimits, SandboxPool

pytestmark = pytest.mark.docker

FINISH = "Think: done.\n\nAct: finish"


def bash(script: str) -> str:
    return f"Think: run it.\n\nAct: bash\n\n```bash\n{script}\n```"


@pytest.fixture(scope="module")
def pool(docker_image):
    with SandboxPool(image=docker_image, size=2) as p:
        yield p


def write_tasks(tmp_path, items: list[dict]) -> str:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(items))
    return str(path)


def change_task(tmp_path) -> OSEnv:
    """A task judged by a check script that passes only when /root/done exists."""
    item = {"description": "Create /root/done.", "evaluation": {"check": {"code": "test -f /root/done"}}}
    return write_tasks(tmp_path, [item])


@pytest.mark.parametrize(
    "attack",
    [
        "printf '#!/bin/sh\\nexit 0\\n' > /usr/local/bin/bash; chmod +x /usr/local/bin/bash",
        "printf '#!/bin/sh\\nexit 0\\n' > /tmp/fake; chmod +x /tmp/fake; cp /tmp/fake /bin/bash; "
        "cp /tmp/fake /usr/bin/python3",
        "echo /tmp/evil.so > /etc/ld.so.preload; ln -sf /tmp/fake /etc/alternatives/awk",
    ],
    ids=["path", "overwrite", "loader"],
)
def test_replacing_interpreters_does_not_fake_a_pass(pool, tmp_path, attack):
    env = OSEnv(tasks_file=change_task(tmp_path), pool=pool)
    env.reset(options={"task_id": env.task_ids()[0]})
    env.step(bash(attack))
    _, reward, terminated, _, info = env.step(FINISH)
    assert terminated and reward == 0.0, info["judge_detail"]
    env.reset(options={"task_id": env.task_ids()[0]})
    env.step(bash(attack + "; touch /root/done"))
    _, reward, _, _, info = env.step(FINISH)
    assert reward == 1.0, info["judge_detail"]  # the same attack does not break an honest pass either
    env.close()


def test_check_scripts_get_none_on_finish_and_see_stderr(pool, tmp_path):
    item = {
        "description": "Say anything.",
        "evaluation": {
            "check": [
                None,
                {
                    "language": "python",
                    "code": "import sys; sys.exit(sys.argv[1:] != ['None', 'out\\nerr\\n'])",
                },
            ],
            "example": "echo out; echo err >&2",
        },
    }
    env = OSEnv(tasks_file=write_tasks(tmp_path, [item]), pool=pool)
    assert env.task(env.task_ids()[0]).expects_answer
    env.reset(options={"task_id": env.task_ids()[0]})
    _, reward, _, _, info = env.step(FINISH)
    assert reward == 1.0, info["judge_detail"]
    env.close()


def test_a_check_that_reads_the_answer_makes_the_task_expect_one(tmp_path):
    items = [
        {"description": "q", "evaluation": {"check": {"code": '[ "$1" = 42 ]'}}},
        {"description": "c", "evaluation": {"check": {"code": "f() { echo $1; }; test -f /x"}}},
    ]
    env = OSEnv(tasks_file=write_tasks(tmp_path, items), pool=object())
    assert [env.task(t).expects_answer for t in env.task_ids()] == [True, False]


def test_init_output_and_background_stderr_never_reach_the_agent(pool, tmp_path):
    item = {
        "description": "Anything.",
        "create": {
            "init": {
                "code": "cp /bin/sleep /usr/local/bin/napper; echo INIT-OUT; (sleep 0.3; echo JOB-ERR >&2; exec napper 3600) &"
            }
        },
        "evaluation": {"match": "x"},
    }
    env = OSEnv(tasks_file=write_tasks(tmp_path, [item]), pool=pool)
    env.reset(options={"task_id": env.task_ids()[0]})
    obs, *_ = env.step(bash("sleep 1; pgrep -xc napper"))
    assert "INIT-OUT" not in obs and "JOB-ERR" not in obs and obs.endswith("\n1\n")
    env.close()


def test_a_start_su_takes_over_the_shell(pool, tmp_path):
    item = {
        "description": "Who am I?",
        "create": {"init": {"code": "useradd -m -s /bin/bash jack"}},
        "start": "su - jack",
        "evaluation": {"match": "jack"},
    }
    env = OSEnv(tasks_file=write_tasks(tmp_path, [item]), pool=pool)
    env.reset(options={"task_id": env.task_ids()[0]})
    obs, *_ = env.step(bash("echo $(whoami) $HOME $PWD"))
    assert "jack /home/jack /home/jack" in obs
    obs, *_ = env.step(bash("cd /tmp; X=5"))
    obs, *_ = env.step(bash("echo $X $PWD $(whoami)"))
    assert "5 /tmp jack" in obs
    env.close()


@pytest.mark.parametrize(
    "subversion",
    ["trap 'echo HIJACK' DEBUG", "alias eval='echo HIJACK #'", "unset -f __pl_end __pl_begin", "exec bash"],
    ids=["debug-trap", "alias-eval", "unset-helpers", "exec-bash"],
)
def test_a_subverted_shell_is_restarted(docker_image, subversion):
    with DockerSandbox(docker_image) as box:
        box.shell("cd /tmp")
        box.shell(subversion, timeout=5)
        result = box.shell("echo ok $PWD", timeout=5)
        assert result.output == "ok /tmp\n" and result.exit_code == 0 and not result.timed_out


def test_a_timed_out_command_says_so(pool, tmp_path):
    env = OSEnv(
        tasks_file=write_tasks(tmp_path, [{"description": "d", "evaluation": {"match": "x"}}]), pool=pool
    )
    env.command_timeout = 1.0
    env.reset(options={"task_id": env.task_ids()[0]})
    obs, _, _, _, info = env.step(bash("sleep 5"))
    assert info["timed_out"] and "did not finish within 1 s" in obs
    env.close()


def test_disk_writes_are_capped(docker_image):
    free_before = shutil.disk_usage("/").free
    limits = SandboxLimits(disk_mb=200)
    with DockerSandbox(docker_image, limits=limits) as box:
        one = box.shell(
            "dd if=/dev/zero of=/root/big bs=1M count=600 2>&1 | tail -1; ls -s --block-size=M /root/big"
        )
        assert (
            "File size limit exceeded" in one.output or "File too large" in one.output or "200M" in one.output
        )
        box.shell("rm -f /root/big")
        many = box.shell(
            "for i in 1 2 3 4; do dd if=/dev/zero of=/root/f$i bs=1M count=150 2>/dev/null & done; wait; sleep 1",
            timeout=20,
        )
        assert box.disk_exceeded and "disk limit" in many.output
        assert "disk limit" in box.shell("echo still here").output
        free_during = shutil.disk_usage("/").free
    assert free_before - free_during < 2 * (200 << 20) + (300 << 20)
