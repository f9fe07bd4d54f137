"""The upstream data sets promptless reads, pinned: where each file comes from and the sha256 it must have.

The repository carries no copy of another project's data. Each data set is fetched into the data cache
(:func:`envs.paths.data_home`) by ``python -m envs.upstream.fetch`` and every file is checked against the
sha256 recorded here, both when it is fetched and whenever it is read. A file comes from one of:

- ``upstream``: a path in the pinned repository, served verbatim (a raw GitHub URL at the pinned commit);
- ``transcribed_from``: an upstream Python source (itself pinned by ``source_sha256``) out of which
  :mod:`envs.upstream.transcribe` writes the prompt as data, because upstream keeps it in code;
- neither: no public URL serves these bytes, so only a local copy (``--source DIR``) can provide them.

The hashes are those of the files in the project's reference copies (``../shared/<data set>/`` on the
development machines), which equal the upstream files byte for byte where an ``upstream`` path is given.

Example::

    from envs.upstream.manifest import dataset

    for f in dataset("agentbench-os").files:
        print(f.path, f.sha256)
"""

from __future__ import annotations

from dataclasses import dataclass

#: THUDM/AgentBench, head of branch v0.2, at which every AgentBench file below was compared byte for byte.
AGENTBENCH_REPO = "THUDM/AgentBench"
AGENTBENCH_COMMIT = "41e6807349f741e06428fae3e9e4d334e7002362"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"


@dataclass(frozen=True)
class DataFile:
    """One file of a data set: its path inside the data set's folder, its sha256 and its upstream origin."""

    path: str
    sha256: str
    #: served verbatim at the pinned commit
    upstream: str | None = None
    #: an upstream source that envs.upstream.transcribe turns into this file
    transcribed_from: str | None = None
    #: sha256 of ``transcribed_from`` at the pinned commit
    source_sha256: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A folder of upstream files that is fetched, verified and cached as a whole."""

    name: str
    title: str
    licence: str
    repo: str | None
    commit: str | None
    files: tuple[DataFile, ...]
    note: str = ""

    def url(self, upstream_path: str) -> str:
        """The raw URL of ``upstream_path`` at the pinned commit."""
        if self.repo is None or self.commit is None:
            raise ValueError(f"data set {self.name} has no pinned upstream repository")
        return RAW_URL.format(repo=self.repo, commit=self.commit, path=upstream_path)

    def file(self, path: str) -> DataFile:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(f"data set {self.name} has no file {path!r}")


_OS_SCRIPTS = "data/os_interaction/scripts/dev"

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="agentbench-prompts",
        title="AgentBench v0.2's three task prompts (OS, web shop, web browsing)",
        licence="Apache-2.0 (THUDM/AgentBench)",
        repo=AGENTBENCH_REPO,
        commit=AGENTBENCH_COMMIT,
        files=(
            DataFile(
                "os_interaction.json",
                "25632e9e0d09ddc22e70d4b9e96939733e82d6e32082d404f6425d8013d434eb",
                transcribed_from="src/server/tasks/os_interaction/task.py",
                source_sha256="3f00c2819d01e1c292661c5d54ba15bce26864490f98b203711cb3f50d151077",
            ),
            DataFile(
                "webshop.json",
                "c0ed56cb8de98d53b5fa5759551d13106a7c52ce61768a99b65ce41231b58dc8",
                transcribed_from="src/server/tasks/webshop/__init__.py",
                source_sha256="e40db39f90a7916a2c6b4235b22050d6801dae14c80d5cbd46f903b86cd08633",
            ),
            DataFile(
                "web_browsing_cot.json",
                "c2ae04794d0d6841d4e727c9bacc081b53db9d9a73a8cc4241d9885bf47826c4",
                upstream="data/mind2web/prompt/llm_prompt_cot.json",
            ),
        ),
    ),
    Dataset(
        name="agentbench-os",
        title="AgentBench v0.2's OS-interaction dev set (26 items) with its scripts",
        licence="Apache-2.0 (THUDM/AgentBench)",
        repo=AGENTBENCH_REPO,
        commit=AGENTBENCH_COMMIT,
        files=(
            DataFile(
                "LICENSE", "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4", "LICENSE"
            ),
            DataFile(
                "dev.json",
                "c5554248e6c1cb606e27d2f81025b751a490c9a5ccd37aabf4c86879a52e9274",
                "data/os_interaction/data/dev.json",
            ),
            *(
                DataFile(f"scripts/{rel}", sha, f"{_OS_SCRIPTS}/{rel}")
                for rel, sha in (
                    ("check/0.sh", "bc75b2778c644ec42abb46abec6eadf52812f10c02255a1c3b2b55c3ced0ae0c"),
                    (
                        "check/containing.py",
                        "107c1f4a4065702276084876fca4316d3d4de14b24c3e7d89cb7e532e0794c31",
                    ),
                    ("check/in.py", "35325fb698f3c8d2009c70466237f2d0a98df20bf8e19558d7677beefa8e54b8"),
                    (
                        "check/integer-match.py",
                        "1f1fd1b34581794346c577bea54d50c87a547f483e552259cb66563c25f5fed8",
                    ),
                    (
                        "check/size-match.py",
                        "b0d6ed977b4802f01725edd90c96f056021a75fe09ebf890a1a3a01dfc934b29",
                    ),
                    (
                        "check/string-match.py",
                        "c0afd9384f5c2e492b5c158731e5fefb000692c4ba6a6be89f168aca7e89faec",
                    ),
                    ("example/0.sh", "23970a83ef56b0b17071f3408f5ac5e81fd9108df800ca2d33144c203eabd332"),
                    ("init/stock-log.sh", "2fc591294f8db0333a95bb382f7e83776ccc6143cca122acc201e8d4222da9fc"),
                )
            ),
        ),
    ),
    Dataset(
        name="webshop-1k",
        title="WebShop's real 1,000-product set, its attribute file and 13 human goals",
        licence="MIT (princeton-nlp/WebShop)",
        repo=None,
        commit=None,
        note=(
            "the products were recovered from a search index (see the copy's README), so no public URL "
            "serves these exact bytes"
        ),
        files=(
            DataFile("LICENSE", "8872dbf8660b00890b5e07ce1ea1f7a44fa7ae4e1857da56caba172b51dab3cb"),
            DataFile(
                "items_shuffle_1000.processed.json",
                "931fad426492ae40fe9696564e9d5ae42a422d59f1d963da4d91fa0b06bc864d",
            ),
            DataFile(
                "items_shuffle_1000.reconstructed.json",
                "5741f44df7ec57f32ec0f5a5cd2cc711647c36caf908547f204eb28fda8050e3",
            ),
            DataFile(
                "items_ins_v2_1000.json", "f88a36314a397b53b3d9c3fa5878e5f7b26d35019a51ec83fbedeca61a948f6f"
            ),
            DataFile(
                "items_human_ins.subset.json",
                "c46f884c26bf9ad98a88b0d15bb614862e1ca053a79b5de9f63a6ca124cc9435",
            ),
        ),
    ),
)

#: The data sets the envs need to run at all; ``webshop-1k`` is fetched only when asked for.
REQUIRED: tuple[str, ...] = ("agentbench-prompts", "agentbench-os")


def dataset(name: str) -> Dataset:
    """The data set called ``name``; a ValueError lists the known names."""
    for d in DATASETS:
        if d.name == name:
            return d
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(d.name for d in DATASETS)}")
