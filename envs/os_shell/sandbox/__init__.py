"""Sandboxes for the OS environment: one fresh, network-less, resource-limited container per episode.

The interface follows inspect_ai's sandbox: ``exec(argv, input, cwd, env, timeout)`` runs one argument list,
``write_file``/``read_file`` move files, and ``shell(command, timeout)`` types a command into the episode's
persistent bash, where ``cd``, variables, functions and background jobs persist across calls, as in AgentBench.

The package, one job per module:

- ``base``: the ``Sandbox`` protocol, its results (``ExecResult``, ``ShellResult``), ``SandboxLimits``;
- ``client``: the Docker client, the cap on concurrent API calls, retries, removal of crashed runs' containers;
- ``attached``: one ``docker exec`` with stdin attached, its output demultiplexed by a reader thread;
- ``shell``: the persistent bash and its control shell (their helpers in ``shell_init.sh``, ``control_init.sh``);
- ``docker_sandbox``: ``DockerSandbox``, the benchmark's provider;
- ``local``: ``LocalSandbox``, host processes in a temporary folder, for fast tests (it isolates nothing);
- ``pool``: ``SandboxPool``, sandboxes started ahead of the episodes, and the process-wide ``shared_pool``.

Example::

    from envs.os_shell.sandbox import shared_pool

    pool = shared_pool()
    box = pool.acquire()
    box.shell("cd /tmp && X=41")
    print(box.shell("echo $((X + 1)) $PWD").output)  # "42 /tmp\\n"
    pool.release(box)
"""

from envs.os_shell.sandbox.base import ExecResult, Sandbox, SandboxError, SandboxLimits, ShellResult
from envs.os_shell.sandbox.client import (
    HOSTNAME,
    LABEL,
    OWNER_LABEL,
    cleanup_leftovers,
    docker_call,
    docker_client,
    remove_container,
)
from envs.os_shell.sandbox.docker_sandbox import DockerSandbox
from envs.os_shell.sandbox.local import LocalSandbox
from envs.os_shell.sandbox.pool import SandboxPool, close_shared_pool, shared_pool

__all__ = [
    "HOSTNAME",
    "LABEL",
    "OWNER_LABEL",
    "DockerSandbox",
    "ExecResult",
    "LocalSandbox",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxPool",
    "ShellResult",
    "cleanup_leftovers",
    "close_shared_pool",
    "docker_call",
    "docker_client",
    "remove_container",
    "shared_pool",
]
