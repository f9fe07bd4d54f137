"""Gist training on the tiny random Llama: rows, a short run, the saved folder, and the agent replying."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.base import EpisodeState
from agents.gist_agent import make_gist_agent
from agents.registry import clear_backends
from harness import leaderboard
from harness import run as run_cli
from tests.agents.conftest import build_tiny_model
from train.compress.config import CompressConfig
from train.compress.gist_train import train_gist

PROMPT = [
    {"role": "user", "content": "You are an agent. Reply with Think: then Act: bash."},
    {"role": "assistant", "content": "Ok."},
]
CONVERSATIONS = [
    {
        "key": str(i),
        "messages": [
            {"role": "user", "content": f"count files {i}"},
            {"role": "assistant", "content": f"Think: I count.\n\nAct: bash\n\n```bash\nls {i}\n```"},
        ],
    }
    for i in range(4)
]


def test_gists_train_save_and_answer(tmp_path: Path) -> None:
    tiny = build_tiny_model(tmp_path / "tiny", max_positions=1024)
    config = CompressConfig.default("gist", "os", gist_k=2, epochs=2.0, batch_size=2)
    out = tmp_path / "gist"
    metrics = train_gist(config, str(tiny), PROMPT, CONVERSATIONS, out)
    assert metrics["rows"] == 4 and metrics["gist_kv_bytes"] < metrics["prompt_kv_bytes"]
    assert (out / "adapter_config.json").is_file() and (out / "gist.pt").is_file()
    agent = make_gist_agent("gist", env_name="os", model=str(tiny), adapter=str(out), max_new_tokens=8)
    state = EpisodeState("os", "t0", PROMPT, [{"role": "user", "content": "count files 9"}])
    reply = agent.reply(state)
    assert reply.usage.cached_tokens == 2 and 1 <= reply.usage.generated_tokens <= 8
    with pytest.raises(ValueError, match="agent 'gist-5' runs 5 gist tokens"):
        make_gist_agent("gist-5", env_name="os", model=str(tiny), adapter=str(out))

    # gist-2 through harness.run, then its own leaderboard row beside gist's
    runs = tmp_path / "runs"
    for name in ("gist", "gist-2"):
        argv = ["--agent", name, "--env", "shop", "--model", str(tiny), "--adapter", str(out)]
        argv += ["--split", "dev", "--limit", "1", "--max-new-tokens", "8", "--out", str(runs / name)]
        assert run_cli.main(argv) == 0
        clear_backends()
    record = json.loads((runs / "gist-2" / "episodes.jsonl").read_text().splitlines()[0])
    assert record["agent"] == "gist-2" and record["usage"]["cached_tokens"] > 0
    csv_path = tmp_path / "leaderboard.csv"
    assert leaderboard.main(["--runs", str(runs), "--out", str(csv_path), "--no-plot"]) == 0
    agents = [line.split(",")[0] for line in csv_path.read_text().splitlines()[1:]]
    assert sorted(agents) == ["gist", "gist-2"]
