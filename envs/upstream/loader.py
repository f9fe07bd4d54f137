"""The one way the envs, the oracle, the corpus and the tests read upstream data: verified, from the cache.

:func:`data_file` returns the path of a file of a data set after checking every file of that set against
the sha256 recorded in :mod:`envs.upstream.manifest`. A data set that is not cached is fetched on demand
(from ``$PROMPTLESS_DATA_SOURCE``, else the network) with one progress line on stderr; when that fails, the
error is one line that names the command that fetches it. A file whose hash does not match is refused,
never used: a modified or truncated copy would silently change the prompts or the tasks being measured.

Example::

    from envs.upstream.loader import data_file

    dev = data_file("agentbench-os", "dev.json")
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from envs.paths import data_home
from envs.upstream.manifest import dataset


class DataError(RuntimeError):
    """Upstream data cannot be used; the message is one line that says why and what to run."""


class DataMissing(DataError):
    """A data set, or a file of it, is not in the cache."""


class DataCorrupt(DataError):
    """A cached file does not have its recorded sha256."""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_command(name: str) -> str:
    """The command line that (re)fetches data set ``name``."""
    from envs.upstream.fetch import COMMAND

    return f"{COMMAND} {name}"


def verify(name: str) -> Path:
    """The cached folder of data set ``name`` after checking every file's sha256 (no fetching)."""
    ds = dataset(name)
    folder = data_home() / ds.name
    if not folder.is_dir():
        raise DataMissing(
            f"{ds.title} is not in the data cache ({folder}); fetch it with `{fetch_command(name)}`"
        )
    for f in ds.files:
        path = folder / f.path
        if not path.is_file():
            raise DataMissing(
                f"{ds.title} is not in the data cache ({path} is missing); fetch it with `{fetch_command(name)}`"
            )
        actual = _file_sha256(path)
        if actual != f.sha256:
            raise DataCorrupt(
                f"refusing {path}: its sha256 is {actual}, the pinned upstream file's is {f.sha256}; "
                f"fetch a clean copy with `{fetch_command(name)} --force`"
            )
    return folder


def dataset_dir(name: str, *, fetch_missing: bool = True) -> Path:
    """The verified cache folder of data set ``name``, fetched first when missing and ``fetch_missing``."""
    try:
        return verify(name)
    except DataMissing as missing:
        if not fetch_missing:
            raise
        reason = str(missing)
    from envs.upstream.fetch import FetchError, default_source, describe, fetch

    ds = dataset(name)
    source = default_source()
    print(
        f"promptless: fetching {ds.title} from {describe(source)} into {data_home() / ds.name}",
        file=sys.stderr,
    )
    try:
        return fetch(name, source)
    except (FetchError, OSError) as exc:
        raise DataMissing(
            f"{reason}; fetching it on demand failed ({exc}); offline, add --source DIR or set "
            "PROMPTLESS_DATA_SOURCE=DIR (a folder holding the data set's folder)"
        ) from None


def data_file(name: str, path: str) -> Path:
    """The verified cached file ``path`` of data set ``name`` (fetched on demand)."""
    dataset(name).file(path)  # a KeyError for a file the manifest does not pin
    return dataset_dir(name) / path
