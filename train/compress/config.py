"""What shapes one compressor: the shared data recipe (a ``StudentConfig``) plus the method's own fields.

The data recipe is the students' (``StudentConfig.data_fingerprint`` is method-independent), so a
compressor reads the very stage folders the students wrote; the training fingerprint hashes that data
fingerprint with this method's fields only, so adding a compressor never touches a student's fingerprints.

Example::

    config = CompressConfig.default("llmlingua2", "shop", device="cpu")
    config.train_fingerprint()
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from envs.core import AGENTBENCH
from train.compress import COMPRESSION_METHODS
from train.students.config import StudentConfig

#: The student method whose data recipe a compressor shares: SeqKD's (inputs + teacher conversations).
DATA_METHOD = "seqkd"


@dataclass(frozen=True)
class CompressConfig:
    """One compressor's recipe; ``data`` is the students' synthesis recipe it reads."""

    method: str
    env: str
    data: StudentConfig
    seed: int = 0
    # llmlingua2 labels (train.compress.lingua_labels)
    label_samples: int = 8  # teacher replies scored per deletion
    max_deletions: int = 160  # at most this many deletions scored (adjacent words grouped beyond it)
    keep_threshold: float = 0.01  # nats per reply token a deletion must cost for its words to be kept
    force_share: float = 0.5  # a prompt word in at least this share of the teacher's replies is forced
    # llmlingua2 classifier (train.compress.lingua_train)
    clf_hidden: int = 128
    clf_layers: int = 2
    clf_vocab: int = 3000
    clf_steps: int = 300
    clf_lr: float = 1e-3
    # gist (train.compress.gist_train)
    gist_k: int = 1
    lora_r: int = 16
    lora_alpha: int = 32
    lr: float = 1e-3
    epochs: float = 3.0
    batch_size: int = 8
    # icae (train.compress.icae; lora_r, lora_alpha, lr and batch_size above are shared with gist)
    icae_ratio: int = 4  # context tokens per memory slot
    icae_segment: int = 128  # tokens per encoded segment (a longer prompt is cut into segments)
    icae_pretrain_steps: int = 300  # autoencoding + continuation on corpus spans
    icae_finetune_steps: int = 60  # the teacher's conversations with the prompt replaced by its slots
    icae_conv_tokens: int = 1024  # fine-tuning reads each conversation's first tokens after the prompt
    icae_ae_share: float = 0.5  # share of autoencoding spans in pretraining (the rest: continuation)
    icae_corpus_episodes: int = 20  # train tasks of the env played into the pretraining corpus

    def __post_init__(self) -> None:
        if self.method not in COMPRESSION_METHODS:
            raise ValueError(
                f"unknown compression method {self.method!r}; choose one of {COMPRESSION_METHODS}"
            )
        for name in (
            "label_samples",
            "max_deletions",
            "clf_steps",
            "gist_k",
            "batch_size",
            "lora_r",
            "icae_ratio",
            "icae_conv_tokens",
            "icae_corpus_episodes",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.icae_segment < self.icae_ratio:
            raise ValueError(
                f"icae_segment ({self.icae_segment}) must be at least icae_ratio ({self.icae_ratio})"
            )
        if min(self.icae_pretrain_steps, self.icae_finetune_steps) < 0:
            raise ValueError("ICAE step counts cannot be negative")
        if self.icae_pretrain_steps + self.icae_finetune_steps < 1:
            raise ValueError("ICAE needs at least one pretraining or fine-tuning step")
        if not 0.0 <= self.icae_ae_share <= 1.0:
            raise ValueError(f"icae_ae_share must be in [0, 1], got {self.icae_ae_share}")

    @classmethod
    def default(
        cls,
        method: str,
        env: str,
        *,
        device: str = "cpu",
        variant: str = AGENTBENCH,
        data_overrides: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> CompressConfig:
        """The recipe for ``env`` on ``device``; ``data_overrides`` go to the shared ``StudentConfig``."""
        data = StudentConfig.default(
            DATA_METHOD, env, device=device, variant=variant, **(data_overrides or {})
        )
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown compressor setting(s) {sorted(unknown)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(method=method, env=env, data=data, **given)

    def with_overrides(self, **overrides: Any) -> CompressConfig:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def data_fingerprint(self) -> str:
        return self.data.data_fingerprint()

    def own_fields(self) -> dict[str, Any]:
        """The fields that shape this method's artifact (the other methods' fields are left out)."""
        shared = ("method", "env", "seed")
        mine = {
            "llmlingua2": (
                "label_samples",
                "max_deletions",
                "keep_threshold",
                "force_share",
                "clf_hidden",
                "clf_layers",
                "clf_vocab",
                "clf_steps",
                "clf_lr",
            ),
            "gist": ("gist_k", "lora_r", "lora_alpha", "lr", "epochs", "batch_size"),
            "icae": (
                "icae_ratio",
                "icae_segment",
                "icae_pretrain_steps",
                "icae_finetune_steps",
                "icae_conv_tokens",
                "icae_ae_share",
                "icae_corpus_episodes",
                "lora_r",
                "lora_alpha",
                "lr",
                "batch_size",
            ),
        }[self.method]
        return {name: getattr(self, name) for name in shared + mine}

    def train_fingerprint(self) -> str:
        data = self.own_fields() | {"data": self.data_fingerprint()}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        return self.own_fields() | {"data": asdict(self.data), "data_fingerprint": self.data_fingerprint()}
