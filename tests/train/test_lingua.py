"""LLMLingua-2 end to end offline: teacher labels, the project's classifier, the ``llmlingua`` package.

The tiny random Llama (tests.agents.conftest) is the teacher: these tests check the mechanics (labels come
from deletions, the package loads the classifier with no network, rates hit their targets, forced words
stay), not what a real classifier learns.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("llmlingua")

from agents.lingua import LinguaCompressor, check_compressor_dir, supply_cl100k
from tests.agents.conftest import build_tiny_model
from train.compress.config import CompressConfig
from train.compress.lingua_build import build_lingua
from train.compress.lingua_labels import forced_words
from train.compress.lingua_train import CLASSIFIER_NAME

WORDS = "file count list directory search click buy size color price bottle think answer output".split()


def _prompt(seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    body = " ".join(rng.choice(WORDS) for _ in range(160))
    return [
        {"role": "user", "content": f"You are an agent. Reply with Think: then Act: bash.\n{body}."},
        {"role": "assistant", "content": "Ok."},
    ]


def _conversations() -> list[dict]:
    return [
        {
            "key": str(i),
            "messages": [
                {"role": "user", "content": f"count the files in /tmp/{i}"},
                {
                    "role": "assistant",
                    "content": f"Think: I count.\n\nAct: bash\n\n```bash\nls /tmp/{i}\n```",
                },
            ],
        }
        for i in range(4)
    ]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lingua")
    tiny = build_tiny_model(root / "tiny", max_positions=2048)
    config = CompressConfig.default(
        "llmlingua2", "os", label_samples=2, max_deletions=24, clf_steps=10, clf_hidden=32, clf_layers=1
    )
    out = root / CLASSIFIER_NAME
    metrics = build_lingua(config, str(tiny), _prompt(), _conversations(), out)
    assert metrics["words"] > 100 and 0.0 <= metrics["keep_share"] <= 1.0
    return out


def test_forced_words_are_the_prompt_words_every_reply_repeats() -> None:
    replies = ["Think: a\nAct: bash", "Think: b\nAct: answer(1)"]
    forced = forced_words(_prompt(), replies, share=0.5)
    assert forced[0] == "\n" and {"Think", "Act", "bash"} <= set(forced)
    assert "directory" not in forced


def test_the_package_runs_offline_on_the_project_classifier(
    classifier: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    assert supply_cl100k(tmp_path / "tiktoken") == tmp_path / "tiktoken"
    compressor = LinguaCompressor(classifier, device="cpu")
    text = _prompt(1)[0]["content"]
    for removed in (0.3, 0.5, 0.7):
        result = compressor.compress(text, removed)
        assert abs(result.removed - removed) <= 0.05, (removed, result)
        assert "Think" in result.text and "Act" in result.text  # forced words stay
    messages = compressor.compress_messages(_prompt(1), 0.5)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert len(messages[0]["content"]) < len(text)


def test_a_folder_without_a_dispatch_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "my-classifier").mkdir()
    (tmp_path / "my-classifier" / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="chooses its word rules by the model's name"):
        check_compressor_dir(tmp_path / "my-classifier")
