"""Upstream data: pinned prompts and tasks, verified cache, refused tampering, one-line errors, the bug list."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import envs
from envs.os_shell.tasks import CheckEval, agentbench_dev_file, load_agentbench, split_digest
from envs.os_shell.upstream_fixes import UPSTREAM_FIXES, fix_task
from envs.upstream import DataCorrupt, DataMissing, data_file, dataset_dir, verify
from envs.upstream.fetch import FetchError, fetch, main
from envs.upstream.manifest import AGENTBENCH_COMMIT, dataset

#: sha256 of each env's prompt (``prompt_messages()`` as sorted-key JSON) per variant. The embedded model
#: was trained on these bytes and the corpus depends on them: a change here must be deliberate.
PROMPT_SHA256 = {
    ("os", "agentbench"): "5418e1dfef53e243a400e143defe11223fe5324ab437a56d154d1dcf4dfca86a",
    ("os", "json"): "2ea1f15ffb4e456c88e05323cfbc44443d61e66be9edee78745e64a54398a5e7",
    ("os", "react"): "30c59e6366e27a9275fbd3a60ec809d6d120aaee5bc2ca13cfef5b9614c6f54a",
    ("web", "agentbench"): "6063890ba0fa62f5c87af9f6eda0f95ae244cf48d6ae80a0cc959288185e1051",
    ("web", "json"): "69db28962fa4494abe7155d72ba9fd74861ede626b6b5128480485610c607781",
    ("web", "react"): "46fbbfedfe960c0af76c371a4598bda3032b314f16950f00658f0c1a063ad690",
    ("shop", "agentbench"): "f4e11bff314a7c18879267ee4e3283bc7a07a5da58e0144013a057782b7d4678",
    ("shop", "json"): "7ae16772aa393ed0371ac053d16cd8e497f35d201cd0eadb07f78259ad4bdfa6",
    ("shop", "react"): "41eb351dce204f10d0347f328d2248762b5d426bf74902fd2467ca68b1b983d3",
}
#: The dev set as published, and as the judge runs it (item 8's check script fixed).
DEV_SHA256 = "e2d3cddb958801d648fae00b97d19514f03126432538a922b3610a0559a44591"
DEV_JUDGED_SHA256 = "f889eaa1a439628038520709aea5b79836a303208ed326791fe673b3b8624392"


@pytest.fixture(scope="session")
def source() -> Path:
    """A local source holding every required data set: the real cache, whose layout is a source's layout."""
    return dataset_dir("agentbench-os").parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PROMPTLESS_HOME, and no local source unless a test sets one."""
    monkeypatch.setenv("PROMPTLESS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PROMPTLESS_DATA_SOURCE", str(tmp_path / "nowhere"))
    return tmp_path / "home"


@pytest.mark.parametrize(("env_name", "variant"), sorted(PROMPT_SHA256))
def test_prompts_are_the_pinned_bytes(env_name: str, variant: str) -> None:
    env = envs.make(env_name, prompt_variant=variant)
    text = json.dumps(list(env.unwrapped.prompt_messages()), sort_keys=True, ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == PROMPT_SHA256[(env_name, variant)]


def test_dev_set_is_upstream_and_judged_with_the_listed_fix() -> None:
    tasks = load_agentbench(agentbench_dev_file())
    assert split_digest(tasks) == DEV_SHA256
    judged = [fix_task(t) for t in tasks]
    assert split_digest([t for t, _ in judged]) == DEV_JUDGED_SHA256
    assert {t.id: ids for t, ids in judged if ids} == {"agentbench-dev-0008": (UPSTREAM_FIXES[0].id,)}
    assert all(fix.reason for fix in UPSTREAM_FIXES)


def test_size_match_fix_accepts_decimal_sizes_that_crash_upstream() -> None:
    item = load_agentbench(agentbench_dev_file())[8]
    fixed, _ = fix_task(item)
    assert isinstance(item.evaluation, CheckEval) and isinstance(fixed.evaluation, CheckEval)
    upstream, repaired = item.evaluation.scripts[1], fixed.evaluation.scripts[1]
    assert upstream is not None and repaired is not None and upstream.name == "check/size-match.py"

    def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=30)

    assert "ValueError" in run(upstream.code, "8.0K", "8.0K").stderr
    assert run(repaired.code, "8.0K", "8.0K").returncode == 0
    assert run(repaired.code, "8.0K", "12K").returncode == 1


def test_a_tampered_cached_file_is_refused(home: Path, source: Path) -> None:
    fetch("agentbench-os", source)
    dev = home / "data" / "agentbench-os" / "dev.json"
    dev.write_bytes(dev.read_bytes().replace(b"/root", b"/tmp", 1))
    with pytest.raises(DataCorrupt, match=r"refusing .*dev\.json") as refused:
        data_file("agentbench-os", "dev.json")
    assert "python -m envs.upstream.fetch agentbench-os --force" in str(refused.value)
    with pytest.raises(DataCorrupt):
        agentbench_dev_file()
    fetch("agentbench-os", source, force=True)
    assert verify("agentbench-os") == dev.parent


def test_a_missing_data_set_gives_one_line_naming_the_command(home: Path) -> None:
    with pytest.raises(DataMissing) as missing:
        data_file("agentbench-prompts", "webshop.json")
    message = str(missing.value)
    assert "\n" not in message and "python -m envs.upstream.fetch agentbench-prompts" in message


def test_the_data_command_fails_in_one_line_without_a_source(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["--source", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("[data] error:") and "--source DIR" in err


def test_the_data_command_fetches_from_a_local_folder(
    home: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--source", str(source)]) == 0
    assert "agentbench-os: 10 files verified" in capsys.readouterr().out
    assert verify("agentbench-prompts").parent == home / "data"


def _transport(source: Path, calls: list[str], corrupt: str | None = None) -> httpx.MockTransport:
    """Serves the pinned raw GitHub URLs of agentbench-os from ``source`` (``corrupt``: a path to alter)."""
    ds = dataset("agentbench-os")
    by_url = {ds.url(f.upstream): f.path for f in ds.files if f.upstream}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        path = by_url.get(str(request.url))
        if path is None:
            return httpx.Response(404)
        body = (source / ds.name / path).read_bytes()
        return httpx.Response(200, content=body + b"#" if path == corrupt else body)

    return httpx.MockTransport(handler)


def test_network_fetch_reads_the_pinned_commit_and_checks_every_file(home: Path, source: Path) -> None:
    calls: list[str] = []
    with httpx.Client(transport=_transport(source, calls, corrupt="scripts/check/in.py")) as client:
        with pytest.raises(FetchError, match=r"in\.py .* has sha256"):
            fetch("agentbench-os", None, client=client)
    assert not (home / "data" / "agentbench-os").exists()  # nothing half-fetched is left in the cache
    calls.clear()
    with httpx.Client(transport=_transport(source, calls)) as client:
        fetch("agentbench-os", None, client=client)
    assert len(calls) == 10 and all(AGENTBENCH_COMMIT in url for url in calls)
    assert verify("agentbench-os") == home / "data" / "agentbench-os"


def test_webshop_1k_has_no_network_source(home: Path) -> None:
    with pytest.raises(FetchError, match="local copy"), httpx.Client() as client:
        fetch("webshop-1k", None, client=client)


def test_shop_plays_the_real_webshop_data_when_asked() -> None:
    env = envs.make("shop", data="webshop-1k").unwrapped
    assert len(env.task_ids()) == 13 and len(env.catalog.products) == 1000
    for task_id in env.task_ids()[:3]:
        env.reset(options={"task_id": task_id})
        while True:
            _, _, terminated, truncated, info = env.step(env.oracle_reply())
            if terminated or truncated:
                break
        assert info["score"] == 1.0
