"""The default model's tokenizer: byte-level round trip, one token per digit, chat template == training encoding."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from train.tokenizer import BOS, EOS, ROLE_TOKENS, encode_conversation, train_tokenizer

TEXTS = [
    "Now, I will start a new problem in a new OS. My problem is: count the files in /etc.",
    "Think: I should list them.\n\nAct: bash\n\n```bash\nls -1 /etc | wc -l\n```",
    'The output of the OS:\n\n42\n\n{"thought": "done", "action": "answer", "input": "42"}',
    "Thought: the price is $12.99\nAction: click[B07X5TQ9RM]",
] * 20


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=400)


def test_round_trip_keeps_every_byte(tok):
    text = "Größe: 12 µm — naïve café\tX\n```bash\necho 'ü' | wc -c\n```  $0.50 ☃"
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text


def test_digits_are_single_tokens(tok):
    ids = tok.encode("answer(90210)", add_special_tokens=False)
    pieces = tok.convert_ids_to_tokens(ids)
    assert [p for p in pieces if any(c.isdigit() for c in p)] == ["9", "0", "2", "1", "0"]


def test_special_tokens_are_single_ids(tok):
    for token in (BOS, EOS, *ROLE_TOKENS.values()):
        assert len(tok.encode(token, add_special_tokens=False)) == 1
    assert tok.eos_token == EOS and tok.bos_token == BOS and tok.pad_token_id is not None


def test_training_encoding_matches_chat_template_and_masks_assistant_turns(tok, tmp_path):
    messages = [
        {"role": "system", "content": "You are an agent."},
        {"role": "user", "content": "count the files in /etc"},
        {"role": "assistant", "content": "Act: answer(42)"},
        {"role": "user", "content": "ok"},
    ]
    enc = encode_conversation(tok, messages)
    tok.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    templated = loaded.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    assert enc.input_ids == list(templated)
    targets = [i for i, m in zip(enc.input_ids, enc.target_mask, strict=True) if m]
    assert tok.decode(targets) == "Act: answer(42)" + EOS
    prompt = loaded.apply_chat_template(messages[:2], add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("count the files in /etc" + EOS + ROLE_TOKENS["assistant"])


def test_unknown_role_is_a_clear_error(tok):
    with pytest.raises(ValueError, match="unknown role 'tool'"):
        encode_conversation(tok, [{"role": "tool", "content": "x"}])


def test_too_small_vocab_is_refused():
    with pytest.raises(ValueError, match="too small"):
        train_tokenizer(TEXTS, vocab_size=100)


def _pieces(tok, text: str) -> list[str]:
    return tok.convert_ids_to_tokens(tok.encode(text, add_special_tokens=False))


@pytest.fixture(scope="module", params=["copy", "phrase"])
def copy_tok(request):
    texts = [
        "How many files are in the archive /var/backups/zephyr_backup.tar.gz?",
        "tar -tzf /var/backups/zephyr_backup.tar.gz | wc -l",
        "[SEP] B05K1WK00Z [SEP] Yardsmith Potting Soil [SEP] $11.00",
        "Action:\nclick[B05K1WK00Z]",
    ] * 20
    return train_tokenizer(texts, vocab_size=400, scheme=request.param)


@pytest.mark.parametrize(
    "span", ["/var/backups/zephyr_backup.tar.gz", "B05K1WK00Z", "/opt/x-box/notes_1.log"]
)
def test_a_copied_span_is_the_same_tokens_in_the_observation_and_in_the_reply(copy_tok, span):
    seen = _pieces(copy_tok, f"in the archive {span}? [SEP] {span} [SEP]")
    for reply in (f"tar -tzf {span} | wc -l", f"click[{span}]", f'"input": "{span}"'):
        typed = _pieces(copy_tok, reply)
        span_tokens = _pieces(copy_tok, span)
        assert any(seen[i : i + len(span_tokens)] == span_tokens for i in range(len(seen))), seen
        assert any(typed[i : i + len(span_tokens)] == span_tokens for i in range(len(typed))), typed


def test_path_components_keep_their_slash_so_no_token_is_a_bare_slash(copy_tok):
    pieces = _pieces(copy_tok, "find /var/backups/zephyr_backup.tar.gz -type f")
    assert "/" not in pieces and "Ġ/" not in pieces
    assert copy_tok.decode(
        copy_tok.encode("find /var/backups/zephyr_backup.tar.gz", add_special_tokens=False)
    ) == ("find /var/backups/zephyr_backup.tar.gz")


def test_the_bytelevel_scheme_splits_an_id_after_a_space_differently(tmp_path):
    # Why "copy" exists: under GPT-2's split an id takes the space before it, so it is other tokens in a reply.
    tok = train_tokenizer(
        ["[SEP] B05K1WK00Z [SEP]", "click[B05K1WK00Z]"] * 20, vocab_size=300, scheme="bytelevel"
    )
    assert _pieces(tok, " B05K1WK00Z")[0] != _pieces(tok, "B05K1WK00Z")[0]


def test_the_phrase_scheme_learns_a_recurring_sentence_as_one_token_and_round_trips():
    sentence = "Think: I should run a command to find this out"
    texts = [f"{sentence}.\n\nAct: bash", "Count the files in /srv/yonder_files, please."] * 30
    tok = train_tokenizer(texts, vocab_size=400, scheme="phrase")
    assert _pieces(tok, sentence) == [sentence.replace(" ", "Ġ")]
    # A copy scheme tokenizer of the same size spends a token per word at best.
    assert len(_pieces(train_tokenizer(texts, vocab_size=400, scheme="copy"), sentence)) >= 10
    text = "Which file in /srv/cedar_data, B05K1WK00Z or 40.00? It's odd: ok!"
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text
    # A phrase stops before an id, so the id is the same tokens after words as in click[...].
    id_pieces = _pieces(tok, "B05K1WK00Z")
    assert _pieces(tok, "the item B05K1WK00Z")[-len(id_pieces) :] == id_pieces


def test_an_unknown_scheme_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown pre-tokenizer 'gpt5'"):
        train_tokenizer(TEXTS, vocab_size=400, scheme="gpt5")
