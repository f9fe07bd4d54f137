#!/usr/bin/env bash
# Set up promptless on a fresh Debian/Ubuntu machine (as root) or on a machine that already runs Docker.
#
# Idempotent: a second run checks each piece, installs only what is missing, and takes seconds.
#   1. the Docker engine (apt docker.io) if `docker` is missing; starts dockerd if no engine answers;
#   2. debootstrap, only when ubuntu:22.04 cannot be pulled and the OS image must be built locally;
#   3. the Python venv .venv with the project (CPU torch first, so pip does not fetch CUDA wheels);
#   4. the upstream data (AgentBench's prompts and OS dev set) into the data cache, pinned and checked by
#      sha256 (python -m envs.upstream.fetch): from a local copy when one is given or sits beside the
#      checkout (../shared), else from GitHub;
#   5. the OS sandbox image (python -m envs.os_shell.image; a no-op when cached);
#   6. Chromium (apt chromium), the browser in which the tests open the run viewer's page (harness.view);
#      skipped with a note where nothing can be installed (no root, no sudo): those tests then skip.
#
# Usage: scripts/setup.sh            (from anywhere; it works in the repository root)
# Environment: PYTHON (default python3), TORCH_SPEC (default torch==2.13.0), SKIP_IMAGE=1 to skip step 5,
#   SKIP_CHROMIUM=1 to skip step 6,
#   PROMPTLESS_DATA_SOURCE=DIR to take the upstream data from DIR/<data set>/ instead of the network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
VENV="$ROOT/.venv"
STAMP="$VENV/.promptless-install-stamp"
DOCKERD_LOG="/tmp/dockerd.log"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 && SUDO="sudo"
fi

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your package manager"
    [[ $(id -u) -eq 0 || -n $SUDO ]] || die "installing $* needs root (run as root or install sudo)"
    if [[ $APT_UPDATED -eq 0 ]]; then
        say "apt-get update"
        $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Poll `docker info` until it answers or the budget (seconds) runs out.
wait_for_docker() {
    local budget=$1 waited=0
    until docker info >/dev/null 2>&1; do
        if (( waited >= budget * 10 )); then
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# --- 1. Docker ---------------------------------------------------------------------------------------------
# A machine may ship the docker client alone (no engine): then the engine comes from docker.io too.
if ! command -v docker >/dev/null 2>&1 || { ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null 2>&1; }; then
    apt_install docker.io
fi
if docker info >/dev/null 2>&1; then
    say "Docker engine is running"
else
    command -v dockerd >/dev/null 2>&1 || die "no Docker engine answers and dockerd is not installed"
    [[ $(id -u) -eq 0 || -n $SUDO ]] || die "no Docker engine answers; start it (e.g. sudo systemctl start docker)"
    say "starting dockerd (log: $DOCKERD_LOG)"
    # No bridge and no iptables: sandboxes run without a network, and this works inside VMs/containers
    # where netfilter is unavailable.
    $SUDO sh -c "nohup dockerd --bridge=none --iptables=false >'$DOCKERD_LOG' 2>&1 &"
    wait_for_docker 60 || die "dockerd did not answer within 60 s; see $DOCKERD_LOG"
    say "Docker engine is running"
fi

# --- 2. debootstrap (only when the ubuntu:22.04 base cannot be had) ---------------------------------------
need_debootstrap() {
    docker image inspect ubuntu:22.04 >/dev/null 2>&1 && return 1
    # The image step decides how to build; debootstrap is only needed if the image is missing and no
    # registry answers. Ask the image module for the tag it wants before probing the registry.
    if [[ -x $VENV/bin/python ]]; then
        local tag
        tag=$("$VENV/bin/python" -m envs.os_shell.image --print-tag 2>/dev/null || true)
        [[ -n $tag ]] && docker image inspect "$tag" >/dev/null 2>&1 && return 1
    fi
    timeout 45 docker pull -q ubuntu:22.04 >/dev/null 2>&1 && return 1
    return 0
}
if ! command -v debootstrap >/dev/null 2>&1 && [[ ! -x /usr/sbin/debootstrap ]]; then
    if need_debootstrap; then
        apt_install debootstrap
    fi
fi

# --- 3. Python environment ---------------------------------------------------------------------------------
if [[ ! -x $VENV/bin/python ]]; then
    say "creating $VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        apt_install python3-venv
        "$PYTHON" -m venv "$VENV"
    fi
fi
want_hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
have_hash="$(cat "$STAMP" 2>/dev/null || true)"
if [[ $want_hash == "$have_hash" ]] && "$VENV/bin/python" -c 'import envs, torch, transformers' 2>/dev/null; then
    say "Python environment is up to date"
else
    if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
        # Plain `torch` from PyPI pulls gigabytes of CUDA libraries; the pinned CPU wheel does not.
        say "pip install $TORCH_SPEC"
        "$VENV/bin/pip" install -q "$TORCH_SPEC"
    fi
    say "pip install -e '.[train,dev,ray]'"
    "$VENV/bin/pip" install -q -e ".[train,dev,ray]"
    "$VENV/bin/python" -c 'import envs, torch, transformers' || die "the installed environment does not import"
    printf '%s\n' "$want_hash" >"$STAMP"
fi

# --- 4. upstream data -------------------------------------------------------------------------------------
# Nothing of another project's data is in git; the data command fetches it and checks every file's sha256.
if [[ -z ${PROMPTLESS_DATA_SOURCE:-} && -d $ROOT/../shared/agentbench-os ]]; then
    export PROMPTLESS_DATA_SOURCE="$ROOT/../shared"
fi
"$VENV/bin/python" -m envs.upstream.fetch || exit 1

# --- 5. OS sandbox image -----------------------------------------------------------------------------------
if [[ ${SKIP_IMAGE:-0} == 1 ]]; then
    say "skipping the OS image (SKIP_IMAGE=1)"
else
    "$VENV/bin/python" -m envs.os_shell.image
fi

# --- 6. Chromium, for the viewer's browser tests ------------------------------------------------------------
if [[ ${SKIP_CHROMIUM:-0} == 1 ]]; then
    say "skipping Chromium (SKIP_CHROMIUM=1)"
elif command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    say "Chromium is installed"
elif command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 || -n $SUDO ]]; then
    apt_install chromium fonts-dejavu-core
else
    say "Chromium is missing and cannot be installed here (no apt-get or no root): the viewer's browser tests will skip"
fi
say "done"
