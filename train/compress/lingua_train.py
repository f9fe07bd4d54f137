"""The project's own LLMLingua-2 classifier: a small cased BERT token classifier trained from scratch on CPU.

Same method as LLMLingua-2 (a per-token keep probability, label 1 = keep, every subword of a word labelled
like its word), in the format the ``llmlingua`` package loads: ``BertForTokenClassification`` with a
WordPiece tokenizer (``[CLS]``/``[SEP]``/``[PAD]``, ``##`` continuations, the same special tokens the package's
own data loader writes), saved in a folder named ``…-bert-base-multilingual-cased`` because the package
picks its word rules by that name. The official model is mBERT-base; this one has the same tokenizer kind and
head at a size that trains in seconds, since its only job is one env's fixed prompt.

Training windows: each labelled message is cut into windows of at most 510 tokens at random offsets, so the
classifier does not tie a word's label to one absolute position (the package chunks long prompts too).

Example::

    tokenizer = train_tokenizer(texts, folder, vocab_size=3000)
    metrics = train_classifier(labelled, tokenizer, folder, config, forced=forced, meta={...})
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from agents.lingua import META_FILE
from train.compress.config import CompressConfig
from train.compress.lingua_labels import LabelledMessage

#: The folder name the package's name-based dispatch needs (``llmlingua.utils.TokenClfDataset``).
CLASSIFIER_NAME = "promptless-bert-base-multilingual-cased"
MAX_TOKENS = 510  # the package's max_seq_len (512) minus [CLS] and [SEP]
IGNORE = -100


def train_tokenizer(texts: Sequence[str], folder: Path, vocab_size: int) -> Any:
    """A cased WordPiece tokenizer (BERT's normalizer, pre-tokenizer, ``[CLS] … [SEP]`` and ``##`` rules)
    learnt from ``texts``, saved to ``folder`` and loaded back."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    raw = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    raw.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    raw.decoder = decoders.WordPiece(prefix="##")
    raw.train_from_iterator(
        list(texts),
        trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=1, special_tokens=specials),
    )
    cls, sep = raw.token_to_id("[CLS]"), raw.token_to_id("[SEP]")
    raw.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    )
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    return AutoTokenizer.from_pretrained(folder)


def token_rows(tokenizer: Any, message: LabelledMessage) -> tuple[list[int], list[int]]:
    """Token ids of one message and each token's label (its word's)."""
    enc = tokenizer(message.text, add_special_tokens=False, return_offsets_mapping=True)
    by_start = {span: label for span, label in zip(message.spans, message.labels, strict=True)}
    labels = []
    for a, b in enc["offset_mapping"]:
        label = next((lab for (s, e), lab in by_start.items() if s <= a and b <= e), 0)
        labels.append(label)
    return list(enc["input_ids"]), labels


def _windows(
    rows: list[tuple[list[int], list[int]]], rng: random.Random, n: int
) -> list[tuple[list[int], list[int]]]:
    out = []
    for _ in range(n):
        ids, labels = rows[rng.randrange(len(rows))]
        length = min(len(ids), rng.randint(min(32, MAX_TOKENS), MAX_TOKENS))
        start = rng.randint(0, len(ids) - length) if len(ids) > length else 0
        out.append((ids[start : start + length], labels[start : start + length]))
    return out


def train_classifier(
    labelled: Sequence[LabelledMessage],
    tokenizer: Any,
    folder: Path,
    config: CompressConfig,
    *,
    forced: Sequence[str],
    meta: dict[str, Any],
    batch_size: int = 8,
) -> dict[str, Any]:
    """Train the keep/drop classifier on ``labelled``, save it (and ``META_FILE``) to ``folder``."""
    from transformers import BertConfig, BertForTokenClassification

    rows = [token_rows(tokenizer, m) for m in labelled if m.text.strip()]
    rows = [r for r in rows if r[0]]
    if not rows:
        raise ValueError("the prompt has no words to train the classifier on")
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    # num_labels is a PreTrainedConfig property taken through **kwargs; BertConfig's dataclass init omits it.
    bert = BertConfig(  # type: ignore[call-arg]
        vocab_size=len(tokenizer),
        hidden_size=config.clf_hidden,
        num_hidden_layers=config.clf_layers,
        num_attention_heads=max(1, config.clf_hidden // 64),
        intermediate_size=4 * config.clf_hidden,
        max_position_embeddings=512,
        num_labels=2,
        id2label={0: "drop", 1: "keep"},
        label2id={"drop": 0, "keep": 1},
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForTokenClassification(bert)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.clf_lr, weight_decay=0.01)
    cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    losses: list[float] = []
    started = time.perf_counter()
    for step in range(config.clf_steps):
        for group in optimizer.param_groups:  # linear warm-up over the first tenth, then linear decay
            warm = max(1, config.clf_steps // 10)
            group["lr"] = config.clf_lr * min(
                (step + 1) / warm, (config.clf_steps - step) / (config.clf_steps - warm + 1)
            )
        batch = _windows(rows, rng, batch_size)
        width = max(len(ids) for ids, _ in batch) + 2
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, (row_ids, row_labels) in enumerate(batch):
            n = len(row_ids) + 2
            ids[i, :n] = torch.tensor([cls, *row_ids, sep])
            labels[i, 1 : n - 1] = torch.tensor(row_labels)
            mask[i, :n] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    accuracy = _accuracy(model, rows, cls, sep)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    keep_share = sum(sum(labels) for _, labels in rows) / sum(len(labels) for _, labels in rows)
    metrics = {
        "steps": config.clf_steps,
        "final_loss": sum(losses[-10:]) / len(losses[-10:]),
        "train_accuracy": accuracy,
        "keep_share": keep_share,
        "train_s": time.perf_counter() - started,
    }
    (folder / META_FILE).write_text(
        json.dumps({"force_tokens": list(forced), "metrics": metrics, **meta}, indent=2, sort_keys=True)
        + "\n"
    )
    return metrics


def _accuracy(model: Any, rows: list[tuple[list[int], list[int]]], cls: int, sep: int) -> float:
    right = total = 0
    with torch.inference_mode():
        for ids, labels in rows:
            for start in range(0, len(ids), MAX_TOKENS):
                part = ids[start : start + MAX_TOKENS]
                logits = model(input_ids=torch.tensor([[cls, *part, sep]])).logits[0, 1:-1]
                pred = logits.argmax(-1).tolist()
                gold = labels[start : start + MAX_TOKENS]
                right += sum(int(p == g) for p, g in zip(pred, gold, strict=True))
                total += len(gold)
    return right / max(1, total)
