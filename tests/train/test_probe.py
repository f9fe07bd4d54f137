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
