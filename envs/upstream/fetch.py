"""The data command: puts the pinned upstream data sets into the data cache, every file checked by sha256.

Sources, in this order: ``--source DIR``, else ``$PROMPTLESS_DATA_SOURCE``, else the network (raw GitHub URLs
at the commit pinned in :mod:`envs.upstream.manifest`, through httpx). A local source holds one folder per
data set, ``DIR/<data set>/<file>`` (the layout of ``../shared`` on the development machines and in CI).
A data set is written to a temporary folder and renamed into place only when every file matched its
recorded hash, so the cache never holds a half-fetched or unverified data set.

Example::

    python -m envs.upstream.fetch                         # the data sets the envs need, from the network
    python -m envs.upstream.fetch --source ../shared      # the same, offline, from a local copy
    python -m envs.upstream.fetch webshop-1k --source ../shared
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from envs.paths import data_home
from envs.upstream.manifest import DATASETS, REQUIRED, DataFile, Dataset, dataset

#: Environment variable naming a local folder to fetch from instead of the network.
SOURCE_ENV = "PROMPTLESS_DATA_SOURCE"
COMMAND = "python -m envs.upstream.fetch"


class FetchError(RuntimeError):
    """A data set could not be fetched; the message is one line that says why."""


def default_source() -> Path | None:
    """The local folder named by ``$PROMPTLESS_DATA_SOURCE``, or None for the network."""
    value = os.environ.get(SOURCE_ENV, "").strip()
    return Path(value).expanduser() if value else None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_local(ds: Dataset, f: DataFile, source: Path) -> bytes:
    path = source / ds.name / f.path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{ds.name}: cannot read {path}: {exc.strerror or exc}") from None


class _Network:
    """Downloads the files of pinned data sets; one HTTP client for all of them."""

    def __init__(self, client: object | None = None):
        import httpx

        self._client = client or httpx.Client(
            timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True
        )
        self._errors = (httpx.HTTPError,)

    def get(self, url: str, ds: Dataset) -> bytes:
        try:
            response = self._client.get(url)  # type: ignore[attr-defined]
            response.raise_for_status()
            return bytes(response.content)
        except self._errors as exc:
            raise FetchError(f"{ds.name}: cannot download {url}: {exc}") from None

    def read(self, ds: Dataset, f: DataFile) -> bytes:
        if f.upstream is not None:
            return self.get(ds.url(f.upstream), ds)
        if f.transcribed_from is not None:
            from envs.upstream.transcribe import TranscriptionError, transcribe

            url = ds.url(f.transcribed_from)
            source = self.get(url, ds)
            if sha256(source) != f.source_sha256:
                raise FetchError(f"{ds.name}: {url} has sha256 {sha256(source)}, expected {f.source_sha256}")
            try:
                return transcribe(f.transcribed_from, source)
            except (TranscriptionError, SyntaxError, ValueError) as exc:
                raise FetchError(f"{ds.name}: cannot transcribe {url}: {exc}") from None
        raise FetchError(
            f"{ds.name}: {ds.note or 'no public URL serves it'}; fetch it from a local copy (--source DIR)"
        )


def fetch(
    name: str, source: Path | None = None, *, force: bool = False, client: object | None = None
) -> Path:
    """Fetch data set ``name`` into the cache (from ``source``, else the network) and return its folder.

    A data set already cached and intact is kept unless ``force``. Raises :class:`FetchError`.
    """
    from envs.upstream.loader import DataError, verify

    ds = dataset(name)
    target = data_home() / ds.name
    if not force:
        try:
            return verify(ds.name)
        except DataError:
            pass
    if source is not None and not (source / ds.name).is_dir():
        raise FetchError(f"{ds.name}: the local source {source} has no folder {ds.name}/")
    network = _Network(client) if source is None else None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{ds.name}.", dir=target.parent))
    try:
        for f in ds.files:
            data = _read_local(ds, f, source) if source is not None else network.read(ds, f)  # type: ignore[union-attr]
            if sha256(data) != f.sha256:
                origin = source / ds.name / f.path if source is not None else "the network"
                raise FetchError(
                    f"{ds.name}: {f.path} from {origin} has sha256 {sha256(data)}, expected {f.sha256}"
                )
            out = staging / f.path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        _install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return verify(ds.name)


def _install(staging: Path, target: Path) -> None:
    """Move the verified ``staging`` folder to ``target``, replacing what was there."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:
        # Another process installed the same data set in between; its copy is verified by the caller.
        if not target.is_dir():
            raise


def describe(source: Path | None) -> str:
    return str(source) if source is not None else "the network"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"data sets to fetch (default: {', '.join(REQUIRED)}); known: {', '.join(d.name for d in DATASETS)}",
    )
    parser.add_argument(
        "--source", type=Path, help=f"a local folder holding <NAME>/ (default: ${SOURCE_ENV})"
    )
    parser.add_argument("--force", action="store_true", help="fetch again even if the cached copy is intact")
    args = parser.parse_args(argv)
    source = args.source.expanduser() if args.source is not None else default_source()
    names = args.names or list(REQUIRED)
    try:
        for name in names:
            ds = dataset(name)
            folder = fetch(name, source, force=args.force)
            print(f"[data] {ds.name}: {len(ds.files)} files verified in {folder} ({ds.licence})")
    except (FetchError, ValueError, OSError) as exc:
        print(
            f"[data] error: {exc} (source: {describe(source)}; offline: {COMMAND} --source DIR)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
