"""``python -m harness.train`` and ``harness.run`` with students, end to end on a tiny random model:
synthesize, train, reload the adapter, act without the prompt; and the one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

import envs
from agents.registry import clear_backends
from harness import run as run_cli
from harness import train as train_cli
from tests.agents.conftest import build_tiny_model


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMPTLESS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), max_positions=4096)


def test_train_then_run_a_student_without_the_prompt(tmp_path: Path, home: Path, tiny: Path, capsys) -> None:
    out = tmp_path / "adapters"
    argv = ["--method", "gcd", "--env", "shop", "--model", str(tiny), "--out", str(out), "--device", "cpu"]
    small = ["--n-inputs", "4", "--n-conversations", "3", "--epochs", "1", "--no-progress"]
    assert train_cli.main(argv + small) == 0
    assert (out / "shop" / "adapter_config.json").is_file()
    assert not (out / "shop" / "checkpoints").exists()
    marker = json.loads(next(home.glob("students/*/gcd/shop/*/COMPLETE")).read_text())
    assert marker["counts"]["pg_examples"] == 4 and marker["config"]["ratio"] == 0.7
    # a second call finds everything cached: no stage runs again
    capsys.readouterr()
    assert train_cli.main(argv + small) == 0
    assert "stage" not in capsys.readouterr().err
    _roleplay_reuses_stages_1_to_3(home, tiny)

    run_out = tmp_path / "run"
    agent = ["--agent", "gcd", "--env", "shop", "--model", str(tiny), "--adapter", str(out)]
    code = run_cli.main([*agent, "--limit", "1", "--out", str(run_out), "--split", "dev"])
    clear_backends()
    assert code == 0
    record = json.loads((run_out / "episodes.jsonl").read_text().splitlines()[0])
    assert record["agent"] == "gcd" and record["error"] is None
    # the student saw no prompt: on average a call reads fewer tokens than the prompt alone holds
    prompt = envs.make("shop", split="dev", limit=1).unwrapped.prompt_messages()
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    prompt_tokens = len(tokenizer(tokenizer.apply_chat_template(prompt, tokenize=False))["input_ids"])
    assert record["usage"]["prompt_tokens"] / record["usage"]["calls"] < prompt_tokens


def test_no_build_with_a_missing_adapter_is_one_line(home: Path, tiny: Path, capsys) -> None:
    code = run_cli.main(
        ["--agent", "seqkd", "--env", "web", "--model", str(tiny), "--no-build", "--limit", "1"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "no seqkd adapter for env 'web'" in err[0] and "harness.train" in err[0]


def test_train_rejects_bad_input_in_one_line(home: Path, capsys) -> None:
    assert train_cli.main(["--method", "gcd", "--env", "mars", "--model", "x"]) == 2
    assert "unknown env 'mars'" in capsys.readouterr().err
    assert train_cli.main(["--method", "gcd", "--env", "shpo", "--model", "x"]) == 2
    assert "did you mean 'shop'?" in capsys.readouterr().err
    assert train_cli.main(["--method", "gcd", "--env", "shop", "--model", "http://127.0.0.1:1"]) == 2
    assert "local folder" in capsys.readouterr().err
    assert train_cli.main(["--method", "gcd", "--env", "shop", "--model", "x", "--inputs", "llm"]) == 2
    capsys.readouterr()
    assert train_cli.main(["--method", "gist", "--env", "shop", "--model", "x", "--train-seed", "1"]) == 2
    assert "--train-seed is for the students' methods" in capsys.readouterr().err


def _roleplay_reuses_stages_1_to_3(home: Path, tiny: Path) -> None:
    """The other conversation source finds the inputs, AS-IS / TO-BE replies and reasons already made."""
    from harness.plugins import env_factory
    from train.students.build import stage_folders, synthesize
    from train.students.config import StudentConfig

    def finished_stages() -> dict[Path, tuple[int, str]]:
        markers = {p: json.loads(p.read_text()) for p in home.glob("students/*/data/shop/*/*/COMPLETE")}
        return {p: (m["items"], m["data_hash"]) for p, m in markers.items()}

    finished = finished_stages()
    assert len(finished) == 4  # inputs, outputs, reasons, conversations
    sizes = {"n_inputs": 4, "n_conversations": 3}
    roleplay = StudentConfig.default("gcd", "shop", device="cpu", conversations="roleplay", **sizes)
    made = synthesize(roleplay, tiny, env_factory("shop", split="train", limit=4), conversations=False)
    assert len(made.inputs) == 4 and len(made.outputs) == 4 and len(made.reasons) == 4
    assert finished_stages() == finished  # no stage folder new, no item made again
    env = stage_folders(StudentConfig.default("gcd", "shop", device="cpu", **sizes), tiny)
    ours = stage_folders(roleplay, tiny)
    assert ours["reasons"] == env["reasons"] and ours["conversations"] != env["conversations"]
