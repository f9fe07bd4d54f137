"""The held-out probe: its counts follow the model's guesses, the thought is not judged, bad input is refused."""

from __future__ import annotations

import pytest

from train.probe import EnvProbe, _count, main


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

    import torch
    from transformers import LlamaForCausalLM

    from train.presets import get_preset
    from train.probe import marked_first_reply
    from train.tokenizer import train_tokenizer

    texts = ["You are an agent.", "Count the files in /srv/cedar.", "Act: answer(7)", "Act: answer(9)"] * 20
    tok = train_tokenizer(texts, vocab_size=320)
    torch.manual_seed(0)
    config = get_preset("micro").llama_config(
        vocab_size=len(tok),
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = LlamaForCausalLM(config).eval()
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
