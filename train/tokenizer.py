"""Byte-level BPE tokenizer of the embedded default model, trained on the expert corpus.

The pre-tokenization is chosen so that a span the agent copies (a path, an id, a number) is the same tokens in
the observation and in the reply, with keys an induction head can match (:data:`COPY_SPLIT`); digits outside
ids are one per token (a number is copied digit by digit, which a tiny model learns far more easily than
copying multi-digit merges). Chat roles are special tokens, and the saved folder is a
transformers ``PreTrainedTokenizerFast`` with a chat template, so ``apply_chat_template`` works as for any
Hugging Face model and the HF back-end needs nothing special.

Example::

    from train.tokenizer import train_tokenizer, encode_conversation
    tok = train_tokenizer(texts, vocab_size=2048)       # texts: an iterable of strings
    tok.save_pretrained("out/model")
    ids = tok.apply_chat_template([{"role": "user", "content": "ls"}], add_generation_prompt=True)

Format of a conversation (each turn closed by ``<|end|>``, the eos token at which generation stops)::

    <|bos|><|user|>...<|end|><|assistant|>...<|end|>
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

BOS = "<|bos|>"
EOS = "<|end|>"  # closes every turn; generation stops here
PAD = "<|pad|>"
ROLE_TOKENS: dict[str, str] = {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>"}
SPECIAL_TOKENS: tuple[str, ...] = (PAD, BOS, EOS, *ROLE_TOKENS.values())

#: Jinja chat template; it must produce exactly what ``encode_conversation`` produces (a test checks it).
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('unknown role ' + message['role'] + '; use system, user or assistant') }}"
    "{% endif %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


#: Pre-tokenization that keeps a copied span's tokens the same wherever it is written. It differs from GPT-2's
#: split in three ways, each measured on the OS corpus (docs/journal/2026-11-21-to-12-02-default-model.md):
#:
#: - a path component keeps its leading ``/`` (and ``.log``, ``_data``, ``-box`` their ``.``, ``_``, ``-``):
#:   GPT-2 makes every ``/`` its own token, so "the token after ``/``" is ambiguous inside any path, and copying
#:   ``/var/backups/x.tar.gz`` by induction (find the current token earlier, emit what followed it) picks the
#:   last component every time. With ``/var`` ``/backups`` ``/x`` each key is unique in the task;
#: - an id of capitals and digits (``B05K1WK00Z``) is one unit that never takes the space before it, so it
#:   tokenizes the same in ``[SEP] B05K1WK00Z`` and in ``click[B05K1WK00Z]`` (GPT-2 gives `` B`` and ``B``);
#: - any other digit is its own token (as before: numbers are copied digit by digit).
COPY_SPLIT = (
    r"'s|'t|'re|'ve|'m|'ll|'d"
    r"|\s(?=\p{Lu}[\p{Lu}\p{N}]*\p{N})"  # the space before an id stands alone
    r"|\p{Lu}[\p{Lu}\p{N}]*\p{N}[\p{Lu}\p{N}]*"  # an id: capitals and digits, at least one digit
    r"|[/._\-]\p{L}+"  # a path component, extension or suffix with its separator
    r"| ?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}/._\-]+|[/._\-]|\s+(?!\S)|\s+"
)

#: :data:`COPY_SPLIT` with one change: words joined by spaces or light punctuation (``,;:!?``, not ``.``) on
#: one line form a single pre-token, so BPE can learn a phrase that recurs (an instruction's sentence, a
#: demonstration's thought, a template's words) as one token. Why: a fixed prompt then costs a fraction of
#: the positions (OS prompts 315-467 -> 142-233 tokens at vocabulary 8,192), and copied spans (paths, ids,
#: digits) are split exactly as in ``copy``.
_WORD = r"| ?\p{L}+|"  # one word (with the space before it) in COPY_SPLIT
_PHRASE = (  # words on one line, joined by spaces or light punctuation, up to (not into) an id
    r"| ?\p{L}+(?:'\p{L}+)?"
    r"(?:[ ,;:!?]{1,2}(?!\p{Lu}[\p{Lu}\p{N}]*\p{N})\p{L}+(?:'\p{L}+)?)*|"
)
assert COPY_SPLIT.count(_WORD) == 1
PHRASE_SPLIT = COPY_SPLIT.replace(_WORD, _PHRASE)

#: Named pre-tokenizations: ``copy`` (the default model's, see :data:`COPY_SPLIT`), ``phrase``
#: (:data:`PHRASE_SPLIT`) and ``bytelevel`` (GPT-2's split with one token per digit: the models built before
#: ``copy``).
PRETOKENIZERS: tuple[str, ...] = ("copy", "phrase", "bytelevel")


def pre_tokenizer(scheme: str) -> pre_tokenizers.PreTokenizer:
    """The ``tokenizers`` pre-tokenizer of ``scheme`` (one of :data:`PRETOKENIZERS`)."""
    splits = {"copy": COPY_SPLIT, "phrase": PHRASE_SPLIT}
    if scheme in splits:
        return pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(splits[scheme]), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    if scheme == "bytelevel":
        # Digits first, one per token; then GPT-2 style byte-level splitting of everything else.
        return pre_tokenizers.Sequence(
            [
                pre_tokenizers.Digits(individual_digits=True),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
            ]
        )
    raise ValueError(f"unknown pre-tokenizer {scheme!r}; choose one of {list(PRETOKENIZERS)}")


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 2048, min_frequency: int = 2, scheme: str = "copy"
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on ``texts`` and wrap it as a transformers tokenizer with the chat template.

    ``scheme`` names the pre-tokenization (:data:`PRETOKENIZERS`); it is saved in ``tokenizer.json``, so a
    loaded tokenizer needs none of this code."""
    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise ValueError(
            f"vocab_size {vocab_size} is too small: byte-level BPE needs at least 256 + specials"
        )
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizer(scheme)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    return wrap(core)


def wrap(core: Tokenizer) -> PreTrainedTokenizerFast:
    """Wrap a trained ``tokenizers.Tokenizer`` with this project's special tokens and chat template."""
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS.values()),
        clean_up_tokenization_spaces=False,
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.model_max_length = 1_000_000  # the model's context is the model config's business
    return tok


@dataclass(frozen=True)
class EncodedConversation:
    """Token ids of one conversation and, per token, whether it is a training target (assistant turn)."""

    input_ids: list[int]
    target_mask: list[bool]


def token_id(tok: PreTrainedTokenizerFast, token: str) -> int:
    """The id of one special token (``convert_tokens_to_ids`` is typed for lists too)."""
    found = tok.convert_tokens_to_ids(token)
    if not isinstance(found, int):
        raise ValueError(f"{token!r} is not one token of this tokenizer")
    return found


def encode_conversation(
    tok: PreTrainedTokenizerFast, messages: Sequence[dict[str, str]]
) -> EncodedConversation:
    """Tokenize ``messages`` as the chat template does, marking the assistant turns' content and ``<|end|>``.

    Encoding turn by turn is exact because special tokens split the text before BPE runs, so no merge can
    cross a turn boundary; ``tests/train/test_tokenizer.py`` checks it against ``apply_chat_template``.
    """
    ids: list[int] = [token_id(tok, BOS)]
    mask: list[bool] = [False]
    eos_id = token_id(tok, EOS)
    for message in messages:
        role = message["role"]
        if role not in ROLE_TOKENS:
            raise ValueError(f"unknown role {role!r}; use one of {list(ROLE_TOKENS)}")
        content_ids = tok.encode(message["content"], add_special_tokens=False)
        is_target = role == "assistant"
        ids.append(token_id(tok, ROLE_TOKENS[role]))
        mask.append(False)
        ids.extend(content_ids)
        mask.extend([is_target] * len(content_ids))
        ids.append(eos_id)
        mask.append(is_target)  # learning to stop is part of the reply
    return EncodedConversation(ids, mask)
