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
