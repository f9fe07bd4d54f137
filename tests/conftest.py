"""Test-wide setup: the upstream data sets are in the cache before any test reads them.

On the development machines and in CI the reference copies of AgentBench's and WebShop's data sit beside the
checkout (``../shared``); ``PROMPTLESS_DATA_SOURCE`` points the data command there, so the tests never need
the network. Elsewhere the cache must hold them already (``scripts/setup.sh`` fetches them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
if "PROMPTLESS_DATA_SOURCE" not in os.environ and (SHARED / "agentbench-os").is_dir():
    os.environ["PROMPTLESS_DATA_SOURCE"] = str(SHARED)


@pytest.fixture(scope="session", autouse=True)
def upstream_data() -> None:
    """Fetch (once, from the local copy when there is one) every data set the envs need."""
    from envs.upstream import DataError, dataset_dir
    from envs.upstream.manifest import REQUIRED

    try:
        for name in REQUIRED:
            dataset_dir(name)
    except DataError as error:
        pytest.exit(f"upstream data unavailable: {error}", returncode=1)
