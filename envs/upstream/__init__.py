"""Upstream data sets (AgentBench's prompts and OS dev set, WebShop's products): pinned, fetched, verified.

The repository holds no copy of another project's data. :mod:`envs.upstream.manifest` pins every file (the
upstream commit and a sha256), :mod:`envs.upstream.fetch` is the data command that fills the cache
(``python -m envs.upstream.fetch [--source DIR]``), and :mod:`envs.upstream.loader` is how everything reads
it back, verified.

Example::

    from envs.upstream import data_file

    prompt = data_file("agentbench-prompts", "webshop.json")
"""

from __future__ import annotations

from envs.upstream.loader import DataCorrupt, DataError, DataMissing, data_file, dataset_dir, verify

__all__ = ["DataCorrupt", "DataError", "DataMissing", "data_file", "dataset_dir", "verify"]
