from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents import registry
from agents.backends.hf import HFBackend
from agents.backends.openai_compat import OpenAIBackend
from agents.model_agent import ModelAgent
from agents.oracle import OracleAgent
from agents.registry import list_agents, make_agent, resolve_adapter

NAMES = [
    "oracle",
    "teacher",
    "teacher-cached",
    "noprompt",
    "gcd",
    "seqkd",
    "seqkd-kld",
    "prepend-100",
    "prepend-50",
    "gist",
    "gist-1",
    "gist-2",
    "gist-5",
]
NAMES += ["llmlingua2", "llmlingua2-30", "llmlingua2-50", "llmlingua2-70", "icae"]


@pytest.fixture(autouse=True)
def _fresh_backends():
    registry.clear_backends()
    yield
    registry.clear_backends()


def test_every_agent_is_listed_with_a_description() -> None:
    listed = list_agents()
    assert [name for name, _ in listed] == NAMES
    assert all(description and "\n" not in description for _, description in listed)


def test_a_typo_suggests_the_right_name() -> None:
    with pytest.raises(ValueError, match="did you mean 'teacher'"):
        make_agent("techer", env_name="os", model=None)
    with pytest.raises(ValueError, match=r"unknown agent 'zzz'; choose from \['oracle', 'teacher'"):
        make_agent("zzz", env_name="os", model=None)


def test_oracle_and_missing_model() -> None:
    assert isinstance(make_agent("oracle", env_name="os", model=None), OracleAgent)
    with pytest.raises(ValueError, match=r"no model given: pass --model PATH_OR_URL.*train\.bootstrap"):
        make_agent("teacher", env_name="os", model=None)


def test_model_agents_share_one_backend(tiny_model: Path) -> None:
    teacher = make_agent("teacher", env_name="os", model=str(tiny_model), device="cpu")
    noprompt = make_agent("noprompt", env_name="shop", model=str(tiny_model), device="cpu", max_new_tokens=5)
    assert isinstance(teacher, ModelAgent) and isinstance(noprompt, ModelAgent)
    assert teacher.use_prompt and not noprompt.use_prompt
    assert isinstance(teacher.backend, HFBackend) and teacher.backend is noprompt.backend
    assert teacher.max_new_tokens == 384 and teacher.stop == ("\nThe output of the OS:",)
    assert noprompt.max_new_tokens == 5
    with pytest.raises(ValueError, match="do not apply to a local model folder"):
        make_agent("teacher", env_name="os", model=str(tiny_model), api_key="k")
    own_env = make_agent("teacher", env_name="moon", model=str(tiny_model), device="cpu")
    assert own_env.max_new_tokens == 256 and own_env.stop == ()  # type: ignore[attr-defined]
    assert own_env.backend is teacher.backend  # type: ignore[attr-defined]


def test_url_gives_an_openai_backend() -> None:
    agent = make_agent("noprompt", env_name="web", model="http://127.0.0.1:9", timeout=5, model_name="m")
    assert isinstance(agent.backend, OpenAIBackend) and agent.backend.model == "m"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="start the server with it"):
        make_agent("gcd", env_name="os", model="http://127.0.0.1:9", adapter="adapters")


def _fake_adapter(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    return folder


def test_student_adapters_are_found_per_env(tmp_path: Path) -> None:
    per_env = tmp_path / "gcd"
    _fake_adapter(per_env / "os")
    single = _fake_adapter(tmp_path / "single")
    assert resolve_adapter("gcd", "os", per_env) == per_env / "os"
    assert resolve_adapter("gcd", "shop", single) == single
    with pytest.raises(
        FileNotFoundError,
        match=r"no adapter for env 'shop'.*python -m harness\.train --method gcd --env shop",
    ):
        resolve_adapter("gcd", "shop", per_env)
    with pytest.raises(FileNotFoundError, match=r"needs a trained adapter.*--method seqkd --env web"):
        make_agent("seqkd", env_name="web", model=str(tmp_path))


def test_student_loads_its_adapter(tiny_model: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj"])).save_pretrained(tmp_path / "gcd" / "os")
    student = make_agent(
        "gcd", env_name="os", model=str(tiny_model), adapter=str(tmp_path / "gcd"), device="cpu"
    )
    assert isinstance(student, ModelAgent) and not student.use_prompt
    assert student.backend.adapter == tmp_path / "gcd" / "os"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="student agents only"):
        make_agent("teacher", env_name="os", model=str(tiny_model), adapter=str(tmp_path / "gcd"))


def test_compressor_agents_name_their_recipe(tmp_path: Path) -> None:
    from train.compress import agent_recipe, compression_method

    assert [compression_method(n) for n in ("gist-5", "gist", "icae")] == ["gist", "gist", "icae"]
    assert (
        agent_recipe("gist-5") == {"gist_k": 5} and agent_recipe("gist") == {} and agent_recipe("icae") == {}
    )
    with pytest.raises(FileNotFoundError, match=r"harness\.train --method icae"):
        make_agent("icae", env_name="os", model="models/x")
    with pytest.raises(FileNotFoundError, match="no icae compressor for env"):
        make_agent("icae", env_name="os", model="models/x", adapter=str(tmp_path))


def test_teacher_cached_turns_on_the_prefix_cache(tiny_model: Path) -> None:
    cached = make_agent("teacher-cached", env_name="os", model=str(tiny_model), device="cpu")
    plain = make_agent("teacher", env_name="os", model=str(tiny_model), device="cpu")
    assert cached.use_prompt  # type: ignore[attr-defined]
    assert cached.backend.prefix_cache and not plain.backend.prefix_cache  # type: ignore[attr-defined]
    assert cached.backend is not plain.backend  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="--prefix-cache"):
        make_agent("teacher-cached", env_name="os", model="http://127.0.0.1:9")
