"""The held-out probe: its counts follow the model's guesses, the thought is not judged, bad input is refused."""

from __future__ import annotations

from typing import Any

import pytest

from train.probe import EnvProbe, _count, main


def untrained_micro_model(texts: list[str], vocab_size: int) -> tuple[Any, Any]:
    """A tokenizer trained on ``texts`` and a seeded, untrained model of the micro preset's shape."""
    import torch
    from transformers import LlamaForCausalLM

    from train.presets import get_preset
    from train.tokenizer import train_tokenizer

    tok = train_tokenizer(texts, vocab_size=vocab_size)
    torch.manual_seed(0)
    config = get_preset("micro").llama_config_for(tok)
    return tok, LlamaForCausalLM(config).eval()


def test_counts_reply_copy_and_action_accuracy():
    # positions: 0-3 context, 4-7 reply 1 (thought token at 4), 8 context, 9-10 reply 2
    ids = [5, 6, 7, 8, 9, 6, 7, 1, 3, 6, 2]
    targets = [False] * 4 + [True] * 4 + [False] + [True] * 2
    guess = list(ids[1:])  # every next token right...
    guess[3] = 0  # ...but the thought token of reply 1 (predicts ids[4])
    guess[9] = 0  # ...and the last token of reply 2 (predicts ids[10])
    acc = EnvProbe()
    _count(acc, ids, targets, guess, skip=[1, 0])
    assert (acc.reply_tokens, acc.reply_right) == (6, 4)
    assert (acc.copy_tokens, acc.copy_right) == (1, 1)  # only (6, 7) at position 6 occurred before
    assert (acc.replies, acc.actions_right) == (2, 1)  # reply 1's wrong token is its thought: still right
    assert acc.summary()["action_acc_by_turn"] == {0: 1.0, 1: 0.0}


def test_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
    assert "is not a model folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--envs", "chess"])
    assert "unknown env" in capsys.readouterr().err


def test_marked_first_reply_shows_the_reply_with_every_miss_marked():
    import re

    from train.probe import marked_first_reply

    texts = ["You are an agent.", "Count the files in /srv/cedar.", "Act: answer(7)", "Act: answer(9)"] * 20
    tok, model = untrained_micro_model(texts, vocab_size=320)
    record = {
        "prompt": [{"role": "user", "content": "You are an agent."}],
        "messages": [
            {"role": "user", "content": "Count the files in /srv/cedar."},
            {"role": "assistant", "content": "Act: answer(7)"},
            {"role": "user", "content": "Count the files in /srv/cedar."},
            {"role": "assistant", "content": "Act: answer(9)"},
        ],
    }
    shown = marked_first_reply(model, tok, record)
    right_only = re.sub(r"\[([^|\]]*)\|[^\]]*\]", r"\1", shown)
    assert right_only.startswith("Act: answer(7)") and "answer(9)" not in shown  # the first reply only
    assert "[" in shown  # an untrained model misses some tokens, and each miss is marked


def test_copy_drill_loss_is_the_loss_on_the_repeat_bare_and_behind_a_prompt():
    import torch

    from train.copy_task import copy_batch
    from train.probe import copy_drill_loss

    tok, model = untrained_micro_model(
        ["You are an agent. Count the files in /srv/cedar."] * 20, vocab_size=300
    )
    prompt = [tok.bos_token_id, *tok("You are an agent.", add_special_tokens=False).input_ids]
    first_id = max(tok.all_special_ids) + 1
    ids, _ = copy_batch(torch.Generator().manual_seed(5), len(tok), first_id, rows=4, span=6)

    def direct(prefix: list[int]) -> float:
        # each row run on its own as one sequence, prefix included; loss on the repeat but its first token
        total = []
        for row in ids.tolist():
            seq = torch.tensor([prefix + row])
            with torch.no_grad():
                logp = model(input_ids=seq).logits[0].log_softmax(-1)
            start = len(prefix) + 6
            total += [-logp[i - 1, seq[0, i]].item() for i in range(start + 1, seq.shape[1])]
        return sum(total) / len(total)

    bare = copy_drill_loss(model, tok, rows=4, span=6)
    behind = copy_drill_loss(model, tok, prompt, rows=4, span=6)
    assert abs(bare - direct([])) < 1e-4 and abs(behind - direct(prompt)) < 1e-4
    assert abs(bare - behind) > 1e-4  # the prompt changes what the model sees


def _os_record(replies: list[str]) -> dict[str, Any]:
    messages: list[dict[str, str]] = [{"role": "user", "content": "How many files are in /srv/cedar?"}]
    for reply in replies:
        messages += [
            {"role": "assistant", "content": reply},
            {"role": "user", "content": "The output of the OS:\n\n7"},
        ]
    return {
        "env": "os",
        "variant": "agentbench",
        "prompt": [{"role": "user", "content": "Be an agent."}],
        "messages": messages[:-1],
    }


def test_free_steps_parse_each_written_reply_against_the_oracles():
    from train.probe import free_steps

    oracle = [
        "Think: I count them.\n\nAct: bash\n\n```bash\nls /srv/cedar | wc -l\n```",
        "Think: It is 7.\n\nAct: answer(7)",
    ]
    record = _os_record(oracle)
    seen: list[int] = []

    def write(messages: list[dict[str, str]]) -> str:
        seen.append(len(messages))
        if len(messages) == 2:  # the first turn: the same command in other words (same parsed action)
            return "Think: Counting.\n\nAct: bash\n\n```bash\nls /srv/cedar | wc -l\n```"
        return "Think: It is 7.\n\nAct: answer(7."  # the second: not closed, so the parser refuses it

    figures = free_steps(write, [record])
    # the writer saw the prompt plus the oracle's history before each of its two turns
    assert seen == [2, 4]
    assert figures == {
        "os": {
            "free_replies": 2,
            "free_action_acc": 0.5,
            "free_invalid": 0.5,
            "free_action_acc_by_turn": {0: 1.0, 1: 0.0},
        }
    }
    wrong_value = free_steps(lambda m: oracle[0] if len(m) == 2 else "Act: answer(8)", [record])
    assert wrong_value["os"]["free_invalid"] == 0.0  # well-formed, but not the oracle's answer
    assert wrong_value["os"]["free_action_acc_by_turn"] == {0: 1.0, 1: 0.0}


def test_greedy_writer_is_the_models_greedy_reply_under_its_chat_template():
    import torch

    from train.probe import greedy_writer

    texts = ["Be an agent.", "How many files are in /srv/cedar?", "Act: answer(7)"] * 20
    tok, model = untrained_micro_model(texts, vocab_size=320)
    with torch.no_grad():  # special tokens' logits to 0 (embeddings are tied), so that the reply has text
        model.get_input_embeddings().weight[tok.all_special_ids] = 0.0
    messages = [{"role": "user", "content": "How many files are in /srv/cedar?"}]
    # the reference: argmax one token at a time, from the template's text with the assistant turn opened
    ids = tok(
        tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False),
        add_special_tokens=False,
    ).input_ids
    assert tok.convert_ids_to_tokens(ids[-1]) == "<|assistant|>"
    new: list[int] = []
    for _ in range(6):
        with torch.no_grad():
            nxt = int(model(input_ids=torch.tensor([ids + new])).logits[0, -1].argmax())
        new.append(nxt)
        if nxt == tok.eos_token_id:
            break
    expected = tok.decode(new, skip_special_tokens=True)
    assert expected.strip()  # a reply with text, so that the comparison below can fail
    assert greedy_writer(model, tok, max_new_tokens=6)(messages) == expected
    assert greedy_writer(model, tok, max_new_tokens=2)(messages) == tok.decode(
        new[:2], skip_special_tokens=True
    )


def test_corpus_records_keep_the_first_tasks_per_env_with_every_variant(tmp_path, monkeypatch):
    import json

    from train import probe as probe_module
    from train.probe import corpus_records

    monkeypatch.setitem(probe_module.PROBE_TASKS, "web", 2)
    rows = [
        {"env": "web", "kind": "agent", "task_id": "w1", "variant": "a"},
        {"env": "web", "kind": "agent", "task_id": "w1", "variant": "b"},
        {"env": "web", "kind": "drill", "task_id": "w0", "variant": "a"},  # not an agent conversation
        {"env": "shop", "kind": "agent", "task_id": "s1", "variant": "a"},  # an env not asked for
        {"env": "web", "kind": "agent", "task_id": "w2", "variant": "a"},
        {"env": "web", "kind": "agent", "task_id": "w3", "variant": "a"},  # past the first two tasks
        {"env": "web", "kind": "agent", "task_id": "w2", "variant": "b"},
    ]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    picked = [(r["task_id"], r["variant"]) for r in corpus_records(tmp_path, ["web"])]
    assert picked == [("w1", "a"), ("w1", "b"), ("w2", "a"), ("w2", "b")]
    assert corpus_records(tmp_path / "corpus.jsonl", ["web"]) == corpus_records(tmp_path, ["web"])


def test_refuses_a_corpus_folder_without_its_file(tmp_path, capsys):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    with pytest.raises(SystemExit):
        main([str(tmp_path / "model"), "--corpus", str(tmp_path)])
    assert "is not a corpus" in capsys.readouterr().err
