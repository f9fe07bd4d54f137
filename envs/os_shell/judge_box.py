"""A judge the agent cannot fake: check scripts run in a second, trusted container that sees the agent's state.

An agent is root in its container, so anything that runs there after the episode can have been replaced
(``/usr/local/bin/bash``, ``/usr/bin/python3``, the dynamic loader's ``/etc/ld.so.preload``). The judge
therefore runs in its own container, from the pristine image, with a read-only root file system, and:

- joins the agent container's PID namespace, so ``ps``, ``pgrep`` and ``/proc`` show the agent's processes;
- bind-mounts, read-only, every top-level directory of the agent's file system (from the engine's view of the
  agent container, ``GraphDriver.Data.MergedDir``) over its own, then covers the code under /usr
  (``/usr/bin``, ``/usr/lib``... :data:`TRUSTED_USR`) with the pristine image's, from a read-only container
  of the image that lives as long as the process; ``/usr/local/bin`` stays the agent's but comes last in
  ``PATH``, so it adds commands and replaces none;
- masks what the trusted programs would read from the agent's ``/etc`` to load code: ``ld.so.preload``,
  ``ld.so.cache`` and ``alternatives`` come from the image;
- freezes the agent container while it judges (``docker pause``), so that no process the agent left running
  can trace, signal or race the judge's processes.

A bind source is checked through the engine's archive stat (resolved inside the agent container) before it is
mounted: a top-level name the agent turned into a symbolic link is not followed on the host.

Example::

    with JudgeBox(sandbox) as box:
        result = box.exec(["bash", "-c", "test -f /root/done"], timeout=30)
"""

from __future__ import annotations

import atexit
import base64
import dataclasses
import io
import json
import os
import secrets
import tarfile
import threading
from pathlib import Path
from typing import Any

import docker.errors

from envs.os_shell.sandbox import (
    LABEL,
    DockerSandbox,
    ExecResult,
    SandboxError,
    docker_call,
    remove_container,
)

#: Top-level names the judge keeps its own: kernel file systems, and the image's links into /usr.
TRUSTED_TOP = frozenset({"bin", "sbin", "lib", "lib32", "lib64", "libx32", "proc", "sys", "dev"})
#: Directories of code under the agent's /usr, covered with the pristine image's (from a trusted container of
#: the image): programs, libraries, and /usr/local/lib, so that no ``.pth`` file of the agent's
#: site-packages runs inside the judge's Python. The rest of /usr (data an init put there) stays the agent's.
TRUSTED_USR = ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "libexec", "local/lib")
#: What the loader and the alternatives symlinks read from /etc: masked with the image's copy.
ETC_MASKS = ("ld.so.preload", "ld.so.cache", "alternatives")
#: Trusted programs first: an agent's /usr/local/bin/grep never shadows the image's.
JUDGE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin"
_MODE_DIR = 1 << 31
_MODE_SYMLINK = 1 << 27
_MASKS_LOCK = threading.Lock()


def _path_stat(api: Any, container_id: str, path: str) -> dict[str, Any] | None:
    """The engine's stat of ``path`` inside the container (symlinks not followed), or None when absent."""
    url = api._url("/containers/{0}/archive", container_id)
    response = docker_call(api.head, url, params={"path": path}, retries=2)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    header = response.headers.get("X-Docker-Container-Path-Stat")
    return json.loads(base64.b64decode(header)) if header else None


def _is_dir(stat: dict[str, Any] | None) -> bool:
    return stat is not None and bool(stat["mode"] & _MODE_DIR) and not stat["mode"] & _MODE_SYMLINK


def _masks_dir(client: docker.DockerClient, image: str) -> Path:
    """The image's copies of :data:`ETC_MASKS` on the engine's host (extracted once per image)."""
    image_id = docker_call(client.api.inspect_image, image, retries=2)["Id"].split(":")[-1][:16]
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "promptless" / "judge" / image_id
    with _MASKS_LOCK:
        if (root / ".complete").exists():
            return root
        root.mkdir(parents=True, exist_ok=True)
        (root / "ld.so.preload").write_bytes(b"")
        helper = docker_call(client.api.create_container, image, ["true"], labels={LABEL: "1"})["Id"]
        try:
            for name in ("ld.so.cache", "alternatives"):
                stream, _ = docker_call(client.api.get_archive, helper, f"/etc/{name}", retries=2)
                with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                    tar.extractall(root, filter="tar")
        finally:
            remove_container(client, helper)
        (root / ".complete").write_text("ok\n")
        return root


class JudgeBox:
    """A trusted container that sees ``sandbox``'s files (read-only) and processes; ``exec`` runs in it."""

    def __init__(self, sandbox: DockerSandbox):
        self._sandbox = sandbox
        client = sandbox._client
        api = client.api
        info = docker_call(api.inspect_container, sandbox.id, retries=2)
        merged = (info.get("GraphDriver") or {}).get("Data", {}).get("MergedDir")
        if not merged:
            driver = (info.get("GraphDriver") or {}).get("Name")
            raise SandboxError(
                f"the isolated judge needs an overlay storage driver (this engine uses {driver!r})"
            )
        volumes = self._agent_mounts(api, merged)
        masks = _masks_dir(client, sandbox.image)
        for name in ETC_MASKS:
            # Only a path that exists can be masked; an absent one cannot be read by the loader either (the
            # agent is frozen while the judge runs, so nothing can create it meanwhile).
            if _path_stat(api, sandbox.id, f"/etc/{name}") is not None:
                volumes.append(f"{masks / name}:/etc/{name}:ro")
        limits = dataclasses.replace(sandbox.limits, disk_mb=0)
        self.name = f"{sandbox.name}-judge-{secrets.token_hex(2)}"
        self._judge = DockerSandbox(
            sandbox.image,
            limits,
            client,
            run_options={
                "command": ["sleep", "infinity"],
                "name": self.name,
                "pid_mode": f"container:{sandbox.id}",
                "read_only": True,
                "volumes": volumes,
                "environment": {"PATH": JUDGE_PATH, "HOME": "/root", "LANG": "C.UTF-8"},
            },
        )
        self._paused = False
        try:
            docker_call(api.pause, sandbox.id, retries=1)
            self._paused = True
        except docker.errors.APIError as error:
            self.close()
            raise SandboxError(f"cannot freeze the agent's container for judging: {error}") from error

    def _agent_mounts(self, api: Any, merged: str) -> list[str]:
        sandbox_id = self._sandbox.id
        names = set(_image_top_level(self._sandbox))
        for change in docker_call(api.diff, sandbox_id, retries=2) or ():
            parts = change["Path"].strip("/").split("/")
            if len(parts) == 1 and change["Kind"] == 1:
                names.add(parts[0])
        mounts = []
        for name in sorted(names - TRUSTED_TOP):
            if _is_dir(_path_stat(api, sandbox_id, f"/{name}")):
                mounts.append(f"{merged}/{name}:/{name}:ro")
        trusted = _trusted_root(self._sandbox)
        for name in TRUSTED_USR:
            if os.path.isdir(f"{trusted}/usr/{name}") and _is_dir(
                _path_stat(api, sandbox_id, f"/usr/{name}")
            ):
                mounts.append(f"{trusted}/usr/{name}:/usr/{name}:ro")
        return mounts

    def exec(
        self,
        argv: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> ExecResult:
        """Run ``argv`` in the judge container (see :meth:`DockerSandbox.exec`)."""
        return self._judge.exec(argv, input=input, cwd=cwd, env=env, timeout=timeout)

    def close(self) -> None:
        """Remove the judge container; the agent's stays frozen (it is removed after judging anyway)."""
        self._judge.close()

    def __enter__(self) -> JudgeBox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_TOP_LEVEL: dict[str, tuple[str, ...]] = {}
_TRUSTED: dict[str, tuple[DockerSandbox, str]] = {}
_TRUSTED_LOCK = threading.Lock()


def _trusted_root(sandbox: DockerSandbox) -> str:
    """The host path of a pristine, read-only container of the image (one per image and process)."""
    with _TRUSTED_LOCK:
        if sandbox.image not in _TRUSTED:
            limits = dataclasses.replace(sandbox.limits, disk_mb=0)
            box = DockerSandbox(
                sandbox.image,
                limits,
                sandbox._client,
                run_options={"command": ["sleep", "infinity"], "read_only": True},
            )
            atexit.register(box.close)
            info = docker_call(sandbox._client.api.inspect_container, box.id, retries=2)
            _TRUSTED[sandbox.image] = (box, info["GraphDriver"]["Data"]["MergedDir"])
        return _TRUSTED[sandbox.image][1]


def close_trusted() -> None:
    """Remove the trusted containers of :func:`_trusted_root` (also done at exit)."""
    with _TRUSTED_LOCK:
        boxes = [box for box, _ in _TRUSTED.values()]
        _TRUSTED.clear()
    for box in boxes:
        box.close()


def _image_top_level(sandbox: DockerSandbox) -> tuple[str, ...]:
    """The image's top-level names (from a container of the image: the agent's own listing is not trusted)."""
    if sandbox.image not in _TOP_LEVEL:
        client = sandbox._client
        out = docker_call(
            client.containers.run, sandbox.image, ["ls", "-A", "/"], remove=True, network_mode="none"
        )
        _TOP_LEVEL[sandbox.image] = tuple(out.decode().split())
    return _TOP_LEVEL[sandbox.image]
