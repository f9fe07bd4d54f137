"""Caps what one sandbox may write to the host's disk (``SandboxLimits.disk_mb``, default 1 GiB).

A container writes into its writable layer, on the engine's disk: one ``dd`` could fill the host. Two layers:

- where the storage driver supports a per-container size (``storage_opt={"size": ...}``: overlay2 on xfs with
  project quotas, btrfs, zfs, devicemapper), the engine enforces the cap and nothing else is needed; support is
  probed once per process by creating (not starting) a container with the option;
- otherwise (overlay2 on ext4, the common plain install), every process gets ``RLIMIT_FSIZE`` = the cap as a
  hard limit, which root in the container cannot raise (Docker drops ``CAP_SYS_RESOURCE``), so no single file
  grows past it; and a watchdog thread measures the writable layer every ``POLL_S`` seconds and kills the
  container (every process, at once: ``docker kill``) when it holds more than the cap. Between two polls a
  writer can add at most its throughput times ``POLL_S``; the layer is freed when the episode ends.

Example::

    options = disk_options(client, image, 1024)   # {"storage_opt": {...}} or {"ulimits": [...]}
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import docker.errors
from docker.types import Ulimit

if TYPE_CHECKING:
    from envs.os_shell.sandbox import DockerSandbox

#: Seconds between two measurements of a container's writable layer (fallback mode only).
POLL_S = 0.2
_PROBED: dict[str, bool] = {}
_PROBE_LOCK = threading.Lock()


def storage_size_supported(client: docker.DockerClient, image: str) -> bool:
    """Whether this engine's storage driver accepts a per-container size (probed once per process)."""
    from envs.os_shell.sandbox import LABEL, docker_call, remove_container

    with _PROBE_LOCK:
        if image not in _PROBED:
            try:
                probe = docker_call(
                    client.api.create_container,
                    image,
                    ["true"],
                    labels={LABEL: "1"},
                    host_config=client.api.create_host_config(storage_opt={"size": "1G"}),
                )
            except docker.errors.APIError:
                _PROBED[image] = False
            else:
                remove_container(client, probe["Id"])
                _PROBED[image] = True
        return _PROBED[image]


def disk_options(client: docker.DockerClient, image: str, disk_mb: int) -> dict[str, Any]:
    """The container options that cap its disk writes at ``disk_mb`` MiB (none when 0)."""
    if disk_mb <= 0:
        return {}
    if storage_size_supported(client, image):
        return {"storage_opt": {"size": f"{disk_mb}M"}}
    limit = disk_mb << 20
    return {"ulimits": [Ulimit(name="fsize", soft=limit, hard=limit)]}


def _layer_bytes(path: str) -> int:
    """Bytes allocated under ``path`` (what the files really take on disk: sparse files count little)."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files + dirs:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


class DiskGuard:
    """The fallback's watchdog for one container: kills it once its writable layer exceeds the cap."""

    def __init__(self, sandbox: DockerSandbox, limit_bytes: int, measure: Any):
        self._sandbox = sandbox
        self.limit_bytes = limit_bytes
        self._measure = measure
        self.exceeded = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="promptless-disk-guard", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, sandbox: DockerSandbox, disk_mb: int, options: dict[str, Any]) -> DiskGuard | None:
        """A running watchdog when the cap is on and the engine does not enforce it itself."""
        if disk_mb <= 0 or "storage_opt" in options:
            return None
        from envs.os_shell.sandbox import docker_call

        api = sandbox._client.api
        info = docker_call(api.inspect_container, sandbox.id, retries=2)
        upper = (info.get("GraphDriver") or {}).get("Data", {}).get("UpperDir")
        if upper and os.access(upper, os.R_OK | os.X_OK):
            return cls(sandbox, disk_mb << 20, lambda: _layer_bytes(upper))

        def engine_size() -> int:
            # The engine walks the layer itself: slower, but needs no access to its data directory.
            rows = docker_call(api.containers, all=True, filters={"id": sandbox.id}, size=True)
            return int(rows[0].get("SizeRw") or 0) if rows else 0

        return cls(sandbox, disk_mb << 20, engine_size)

    def _watch(self) -> None:
        from envs.os_shell.sandbox import docker_call

        while not self._stop.wait(POLL_S):
            try:
                used = self._measure()
            except (OSError, docker.errors.APIError, IndexError):
                continue
            if used > self.limit_bytes:
                self.exceeded = True
                try:
                    docker_call(self._sandbox._client.api.kill, self._sandbox.id, retries=1)
                except docker.errors.APIError:
                    pass
                return

    def stop(self) -> None:
        self._stop.set()
