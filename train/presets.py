"""Sizes and schedules of the embedded default model, one frozen preset per kind of machine.

- ``micro``: seconds; for tests only (it learns nothing useful).
- ``cpu``: the shipped default model (``models/default-cpu``). A build takes about 2.5 hours on a 2-core VM
  (docs/benchmarks.md). It learns each variant's reply format; how well it acts is in
  docs/results.md.
- ``gpu``: the cpu preset with 19x the parameters and about 10x the computed tokens; picked
  automatically when CUDA is present. Its figures on a GPU are in docs/benchmarks.md when measured.

Example::

    from train.presets import get_preset
    preset = get_preset("cpu")
    config = preset.llama_config_for(tokenizer)  # a tokenizer trained for this preset
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import Any

from transformers import LlamaConfig


@dataclass(frozen=True)
class Preset:
    """Everything that sizes one build of the default model: corpus, tokenizer, model and schedule."""

    name: str
    # corpus
    envs: tuple[str, ...]  # envs whose oracles make the corpus
    episodes_per_env: int  # train tasks per env, each played under every prompt variant
    env_share: float  # environment-side conversations, as a share of the agent-side ones
    # tokenizer
    vocab_size: int
    # model (LlamaConfig)
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    intermediate_size: int
    context_length: int  # longest prompt + episode must fit; longer conversations are dropped (and counted)
    # schedule
    steps: int
    batch_tokens: int  # computed tokens per step: the shared prompt once plus the padded episodes
    lr: float
    min_lr: float
    warmup_steps: int
    episodes_by_env: tuple[tuple[str, int], ...] = ()  # per-env overrides of episodes_per_env
    step_share: tuple[tuple[str, float], ...] = ()  # (env, weight): the env's share of the optimizer steps
    # (env, tokens): an env's own batch budget, used with step_share
    env_batch_tokens: tuple[tuple[str, int], ...] = ()
    copy_weight: float = 0.0  # weight of the synthetic copy loss added each step (train/copy_task.py)
    copy_rows: int = 8
    renamed_copies: int = 0  # name-swapped copies of each OS transcript (train/augment.py)
    copy_warmup_steps: int = 0  # steps of copy batches alone before the corpus (forms induction heads first)
    copy_span: int = 32
    # After ``copy_warmup_steps``, up to ``copy_extra_steps`` more warm-up steps (at the full shift) until the
    # drill's mean loss over 50 steps is under ``copy_formed_loss`` (0: off): the step at which the induction
    # head forms varies with the seed and the arithmetic (train.build_steps.copy_formed)
    copy_formed_loss: float = 0.0
    copy_extra_steps: int = 0
    # the copy warm-up in fp32 even where the main phase runs under bf16 autocast: bf16 rounding delays or
    # prevents the forming of the shifted drill's induction head (measurements in docs/journal/), and the
    # warm-up's small batches make fp32 cheap there
    copy_warmup_fp32: bool = False
    # Stretch stage, after a warm-up whose drill was learnt (``copy_formed``): ``copy_filler_steps`` more
    # drill steps with random-token filler between <|bos|> and the rows (packed into one sequence), its
    # length drawn up to a bound grown to ``copy_filler_tokens``. Why: a head formed on short rows copies
    # only near the start of a sequence, never behind a prompt; trained behind filler it copies at every
    # distance it was trained on. Filler from the start of the warm-up keeps the head from forming, hence
    # the stage comes after it (docs/journal/). 0: off.
    copy_filler_tokens: int = 0
    copy_filler_steps: int = 0
    # the main phase's drill behind filler too (length drawn up to ``copy_filler_tokens``) once the stretch
    # stage ran, so that the corpus steps do not wear the far copying down to the near one
    copy_filler_main: bool = False
    # how far the copy rows stray from the fixed layout x x (train.copy_task.copy_batch's ``shift``), reached
    # at the end of the warm-up, which grows it from 0: only a shifted copy needs content matching, x x is
    # solved by looking a fixed distance back
    copy_shift: float = 0.0
    # open each copy row with <|bos|>, so the drill looks like the start of a conversation, not a setting of
    # its own that a copy circuit can be tied to
    copy_bos: bool = False
    # RoPE base: the larger, the more of a head's dimensions rotate slowly enough to match content far back
    rope_theta: float = 10_000.0
    pretokenizer: str = "copy"  # train.tokenizer.PRETOKENIZERS: "copy" keeps a copied span the same tokens
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    threads: int = 2  # torch CPU threads (ignored on CUDA)
    # The build's seed (corpus draw, initial weights, batch order, copy drill): part of what the default
    # model is, so it sits in the fingerprint; a seed given to train.bootstrap overrides it
    seed: int = 0
    # Raised when the same fields would build another model (see ``fingerprint``).
    version: int = 1
    expected_minutes: float = 1.0  # printed before a build: wall minutes on a 2-core VM, corpus included
    timed: bool = True  # False: expected_minutes is an estimate, no build of this preset has been timed

    def llama_config_for(self, tok: Any) -> LlamaConfig:
        """The model's ``LlamaConfig`` for a trained tokenizer: its size and its special tokens' ids."""
        return self.llama_config(len(tok), tok.bos_token_id, tok.eos_token_id, tok.pad_token_id)

    def llama_config(
        self, vocab_size: int, bos_token_id: int, eos_token_id: int, pad_token_id: int
    ) -> LlamaConfig:
        """The model's ``LlamaConfig``; token ids come from the trained tokenizer."""
        return LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            num_key_value_heads=self.num_kv_heads,
            # Positions are rotary (no learned table): a failing episode at test time may run past the
            # longest training conversation, and should degrade, not raise.
            max_position_embeddings=max(self.context_length, 8192),
            rope_theta=self.rope_theta,  # type: ignore[call-arg]  # a LlamaConfig kwarg the stubs omit
            tie_word_embeddings=True,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fingerprint(self) -> str:
        """Hash of what shapes the model: the version, and every field set away from its default
        (``expected_minutes`` and ``timed`` are printed only).

        A default model records the fingerprint of the preset that built it, so that a release whose preset
        trains differently rebuilds it instead of silently reusing the old weights. A field added later
        defaults to what the code did without it, so adding it leaves every fingerprint as it was; a change
        that the fields cannot show (the corpus, the training code, a changed default) raises ``version``."""
        shaped = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("expected_minutes", "timed")
            and (f.default is MISSING or getattr(self, f.name) != f.default)
        }
        shaped["version"] = self.version
        return hashlib.sha256(json.dumps(shaped, sort_keys=True).encode()).hexdigest()[:16]


PRESETS: dict[str, Preset] = {
    "micro": Preset(
        name="micro",
        envs=("web", "shop"),  # no Docker: the tests build it
        episodes_per_env=2,
        env_share=0.5,
        vocab_size=384,
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        num_kv_heads=2,
        intermediate_size=64,
        context_length=8192,
        steps=3,
        batch_tokens=4096,
        lr=3e-3,
        min_lr=3e-4,
        warmup_steps=1,
        expected_minutes=0.2,
    ),
    "cpu": Preset(
        name="cpu",
        envs=("os", "web", "shop"),
        episodes_per_env=600,  # played once, written under 3 variants: 1,800 agent conversations per env
        episodes_by_env=(("shop", 820),),  # about 600 kept once the inconsistent ones are left out
        step_share=(("os", 0.5), ("web", 0.2), ("shop", 0.3)),
        env_batch_tokens=(("web", 6144), ("shop", 6144)),  # several conversations under one shared prompt
        env_share=0.05,
        vocab_size=4096,
        hidden_size=128,
        num_layers=4,
        num_heads=4,
        num_kv_heads=4,
        intermediate_size=384,
        context_length=4096,
        steps=5000,
        batch_tokens=3072,
        lr=4e-3,
        min_lr=4e-4,
        warmup_steps=50,
        renamed_copies=3,
        # The drill's shift grows from 0 to 1 over the warm-up: a fixed layout forms fixed-distance heads
        # only, and a drill shifted from the start stays at chance; grown, it forms a content-matching
        # (induction) head
        copy_warmup_steps=1200,
        # ... and runs on (up to 800 steps more) until the drill's 50-step mean is under 1 nat, since the
        # step at which the head forms varies with the seed and the CPU's arithmetic
        copy_formed_loss=1.0,
        copy_extra_steps=800,
        copy_shift=1.0,
        copy_bos=True,  # rows open like conversations, so the copying works behind the prompt too
        copy_weight=0.3,
        copy_rows=8,
        copy_span=48,
        copy_warmup_fp32=True,
        copy_filler_tokens=3300,
        copy_filler_steps=600,
        copy_filler_main=True,
        pretokenizer="copy",  # a copied span is the same tokens in the task and in the command
        seed=0,  # part of the fingerprint: another seed is another model
        expected_minutes=150.0,
    ),
}

# The cpu preset (the same corpus and seed, so one cache serves both; each env's share of the steps;
# name-swapped OS copies; the copy split; the shifted, <|bos|>-opened copy warm-up run until the drill is
# learnt) with what a GPU affords: a model 19x the size and 2,000 steps of 32,768 computed tokens. Its
# ``expected_minutes`` is an estimate (``timed=False``).
PRESETS["gpu"] = replace(
    PRESETS["cpu"],
    name="gpu",
    env_batch_tokens=(),  # every env's conversations fit the shared 32k budget several times over
    hidden_size=512,
    num_layers=8,
    num_heads=8,
    num_kv_heads=8,
    intermediate_size=1376,
    steps=2000,
    batch_tokens=32768,
    lr=1e-3,
    min_lr=1e-4,
    warmup_steps=100,
    copy_rows=32,
    expected_minutes=10.0,
    timed=False,
)


def get_preset(name: str) -> Preset:
    """Return the preset called ``name``, with a clear error for an unknown one."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None


def default_preset_name() -> str:
    """``gpu`` when CUDA is available, else ``cpu``."""
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def with_overrides(preset: Preset, **overrides: Any) -> Preset:
    """A copy of ``preset`` with some fields changed (unknown field names raise ``TypeError``)."""
    return replace(preset, **overrides)
