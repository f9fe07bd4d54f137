"""The Docker engine: one process-wide client, a cap on concurrent API calls, retries for the idempotent
calls that can hang or drop, and the removal of containers that crashed runs left behind."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import docker
import docker.errors
import requests.exceptions

from envs.os_shell.sandbox.base import SandboxError

T = TypeVar("T")

#: Label of every promptless container, and the label that names its owner as ``host:pid``.
LABEL = "promptless"
OWNER_LABEL = "promptless.owner"
HOSTNAME = socket.gethostname()

#: At most this many Docker API calls in flight per process: the engine slows down for everybody past it.
_API_CALLS = threading.BoundedSemaphore(int(os.environ.get("PROMPTLESS_DOCKER_CONCURRENCY", "8")))
_TRANSIENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


def docker_call(fn: Callable[..., T], *args: Any, retries: int = 0, **kwargs: Any) -> T:
    """Call ``fn`` under the process-wide cap; retry ``retries`` times on connection errors and timeouts."""
    for attempt in itertools.count():
        try:
            with _API_CALLS:
                return fn(*args, **kwargs)
        except _TRANSIENT:
            if attempt >= retries:
                raise
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


_CLIENT: docker.DockerClient | None = None
_CLIENT_LOCK = threading.Lock()


def docker_client() -> docker.DockerClient:
    """A process-wide Docker client, with a clear error when no engine answers."""
    global _CLIENT
    with _CLIENT_LOCK:
        if _CLIENT is None:
            try:
                client = docker.from_env(timeout=60)
                client.ping()
            except docker.errors.DockerException as error:
                raise SandboxError(
                    f"no Docker engine answers ({error}); start one, e.g. with scripts/setup.sh"
                ) from error
            _CLIENT = client
        return _CLIENT


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_leftovers(client: docker.DockerClient | None = None) -> int:
    """Remove containers labelled by promptless runs on this host whose process is gone; returns the count."""
    client = client or docker_client()
    removed = 0
    # The low-level listing: the high-level one inspects each container and races with other runs' removals.
    containers = docker_call(client.api.containers, all=True, filters={"label": LABEL}, retries=2)
    for container in containers:
        owner = (container.get("Labels") or {}).get(OWNER_LABEL, "")
        host, _, pid = owner.rpartition(":")
        if host != HOSTNAME or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if remove_container(client, container["Id"]):
            removed += 1
    return removed


def remove_container(client: docker.DockerClient, container_id: str) -> bool:
    """Force-remove a container; False when it was already gone or being removed by someone else."""
    try:
        docker_call(client.api.remove_container, container_id, force=True, retries=2)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as error:
        if error.status_code == 409:  # removal already in progress
            return False
        raise
    return True
