"""What shapes one student: the data recipe and the training recipe, each with a fingerprint.

A cached stage is reused only when every field that shaped it is the same, so the data fingerprint covers
the synthesis fields and the training fingerprint covers the data fingerprint plus the training fields.
Two profiles: ``paper`` (the GCD paper's sizes, for a real model on a GPU) and ``cpu`` (sizes that fit the
embedded model's minutes-per-env budget on a 2-core CPU).

Example::

    config = StudentConfig.default("gcd", "shop", device="cpu")
    config.data_fingerprint(), config.train_fingerprint()
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from envs.core import AGENTBENCH
from train.students import METHODS

#: Joint-loss ratio r of the paper per env (``(1 - r) * PG + r * SFT``); other envs take ``DEFAULT_RATIO``.
PAPER_RATIO: dict[str, float] = {"os": 0.7, "shop": 0.7, "web": 0.3}
DEFAULT_RATIO = 0.7
#: Role-play turn limits of the paper per env; other envs take their own registered turn limit.
PAPER_TURNS: dict[str, int] = {"os": 10, "web": 2, "shop": 10}
DEFAULT_TURNS = 10

#: Fields that shape the synthesized items (stages 1-4); every other field belongs to training. The counts
#: (``n_inputs``, ``n_conversations``) are not among them: a stage grows to a larger request by adding
#: items, and a smaller one reads its first items, so a count never invalidates finished work.
DATA_FIELDS = (
    "env",
    "variant",
    "inputs",
    "input_model",
    "reason_model",
    "conversations",
    "roleplay_turns",
    "seed",
)
#: The data fields the conversations alone depend on: stages 1-3 (inputs, AS-IS / TO-BE, reasons) are
#: keyed without them, so that both conversation sources share one set of those stages.
CONVERSATION_FIELDS = ("conversations", "roleplay_turns")


@dataclass(frozen=True)
class StudentConfig:
    """One student's recipe. ``ratio`` is r of the joint loss; ``kl_weight`` scales seqkd-kld's KL term."""

    method: str
    env: str
    variant: str = AGENTBENCH
    # stage 1
    inputs: str = "generator"  # "generator" (the env's train split) or "llm" (input_model invents them)
    input_model: str | None = None
    n_inputs: int = 1000
    # stage 3
    reason_model: str | None = None  # None: the deterministic explainer
    # stage 4
    conversations: str = "env"  # "env" (the teacher in the real env) or "roleplay" (the model plays both)
    n_conversations: int = 1000
    roleplay_turns: int = DEFAULT_TURNS
    # training
    ratio: float = DEFAULT_RATIO
    kl_weight: float = 1.0
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lr: float = 1e-4
    epochs: float = 10.0
    steps: int | None = None  # optimizer steps; None: as many as ``epochs`` passes over the rows take
    batch_size: int = 8
    grad_accum: int = 4
    warmup_ratio: float = 0.03
    max_grad_norm: float = 1.0
    seed: int = 0  # the synthesis's (env resets); also the training's unless ``train_seed`` is set
    train_seed: int | None = None  # LoRA's initialization and the rows' order and coin flips

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {list(METHODS)}")
        if self.inputs not in ("generator", "llm"):
            raise ValueError(f"inputs must be 'generator' or 'llm', got {self.inputs!r}")
        if self.inputs == "llm" and not self.input_model:
            raise ValueError("--inputs llm needs --input-model PATH_OR_URL (the model that invents inputs)")
        if self.conversations not in ("env", "roleplay"):
            raise ValueError(f"conversations must be 'env' or 'roleplay', got {self.conversations!r}")
        if self.conversations == "env" and self.inputs == "llm":
            raise ValueError("env conversations play the env's own tasks: use --inputs generator with them")
        if not 0.0 <= self.ratio <= 1.0:
            raise ValueError(f"ratio r must be in [0, 1], got {self.ratio}")
        for name in ("n_inputs", "n_conversations", "roleplay_turns", "batch_size", "grad_accum", "lora_r"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")

    @classmethod
    def default(cls, method: str, env: str, *, device: str = "cpu", **overrides: Any) -> StudentConfig:
        """The paper's recipe for ``env``, sized for ``device``: ``cuda`` keeps the paper's data and
        schedule; ``cpu`` keeps its loss, LoRA shape and data sources but fewer, shorter passes, so that one
        env's synthesis and training fit minutes on a 2-core CPU with the embedded model."""
        base: dict[str, Any] = {
            "ratio": PAPER_RATIO.get(env, DEFAULT_RATIO),
            "roleplay_turns": PAPER_TURNS.get(env, DEFAULT_TURNS),
        }
        if device != "cuda":
            # A small model learns from a higher rate; fewer inputs and conversations keep synthesis short.
            # Training is a fixed number of steps, the same for every method, so that each method sees as
            # many updates as the others (GCD's rows outnumber the conversations the SFT-only methods
            # train on) and each fits its minutes on a 2-core CPU (bench/student_train.py).
            base |= {"n_inputs": 200, "n_conversations": 40, "lr": 1e-3, "steps": 40, "grad_accum": 1}
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown student setting(s) {sorted(unknown)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        if given.get("inputs") == "llm" and "conversations" not in given:
            # Invented inputs are not the env's tasks, so the real env cannot play them: role-play can.
            base["conversations"] = "roleplay"
        if "epochs" in given and "steps" not in given:
            base.pop("steps", None)  # asked for passes over the data: the step count follows from them
        return cls(method=method, env=env, **(base | given))

    def total_steps(self, n_rows: int) -> int:
        """Optimizer steps for ``n_rows`` training rows: ``steps`` when set, else ``epochs`` passes."""
        if self.steps is not None:
            return self.steps
        per_epoch = max(1, -(-n_rows // (self.batch_size * self.grad_accum)))
        return max(1, round(per_epoch * self.epochs))

    def with_overrides(self, **overrides: Any) -> StudentConfig:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def data_fingerprint(self) -> str:
        """Hash of the synthesis recipe without its counts: method-independent, so that every method reuses
        one data set, and count-independent, so that a larger request extends it."""
        data = {name: getattr(self, name) for name in DATA_FIELDS}
        return _hash(data)

    def pairs_fields(self) -> dict[str, Any]:
        """The fields that shape stages 1-3: the data recipe less the conversation source."""
        return {name: getattr(self, name) for name in DATA_FIELDS if name not in CONVERSATION_FIELDS}

    def pairs_fingerprint(self) -> str:
        """Hash of ``pairs_fields``: the key of the inputs, the AS-IS / TO-BE replies and the reasons."""
        return _hash(self.pairs_fields())

    @property
    def training_seed(self) -> int:
        """The seed of training: ``train_seed``, else ``seed``. Builds of one recipe can differ as much as
        two recipes do, and the synthesis is deterministic for greedy teachers, so ``train_seed`` varies a
        build without synthesizing the same data again."""
        return self.seed if self.train_seed is None else self.train_seed

    def train_fingerprint(self) -> str:
        """Hash of the whole recipe (data included). An unset ``train_seed`` (training with the synthesis
        seed) is left out, so the field adds nothing to the key of a recipe that does not use it."""
        recipe = asdict(self)
        if recipe["train_seed"] is None:
            del recipe["train_seed"]
        return _hash(recipe)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
