"""LoRA training of a student on transformers' ``Trainer``: the method's loss in ``compute_loss``, the rest
(cosine schedule with warm-up, gradient accumulation and clipping, bf16, checkpoints, resume, logging,
``accelerate launch`` on several GPUs) from the library.

- LoRA on every linear layer but the output head (peft's ``all-linear``), r 16, alpha 32, dropout 0.05.
- CUDA: QLoRA (bitsandbytes NF4, double quantization, bf16 compute) and bf16 training. CPU: bf16 autocast
  where the CPU computes bf16 natively (``train.bootstrap.cpu_has_bf16``), fp32 elsewhere, because there it
  is faster at the same loss (``bench/student_train.py`` measures it; figures in docs/benchmarks.md).
- Checkpoints go to ``<out>/checkpoints``; a rerun resumes from the last one. The adapter is saved to
  ``<out>`` only when training ends.

Example::

    metrics = train_adapter(config, model_path, rows, out, device="cpu")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from train.students.config import StudentConfig
from train.students.dataset import Collator
from train.students.losses import gather_rows, joint, token_ce, token_kl


def resolve_device(device: str = "auto") -> str:
    """``auto`` means CUDA when present, else CPU; asking for CUDA without it is a clear error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but CUDA is not available here")
    return device


def load_student(model_path: str | Path, config: StudentConfig, device: str) -> Any:
    """The base model (4-bit NF4 on CUDA, fp32 on CPU) with a fresh trainable LoRA adapter."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if device == "cuda":
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        model = AutoModelForCausalLM.from_pretrained(
            model_path, quantization_config=quant, dtype=torch.bfloat16, device_map={"": 0}
        )
        model = prepare_model_for_kbit_training(model)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


class StudentTrainer(Trainer):
    """``Trainer`` whose loss is the student method's: SFT, GCD's joint SFT + PG, or SFT + KL."""

    def __init__(self, *args: Any, ratio: float, kl_weight: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.ratio = ratio
        self.kl_weight = kl_weight
        self.model_accepts_loss_kwargs = False  # the loss is ours: Trainer scales it for accumulation

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        sft = pg = None
        if "sft" in inputs:
            part = inputs["sft"]
            logits = model(input_ids=part["input_ids"], attention_mask=part["attention_mask"]).logits
            sft = token_ce(logits, part["labels"])
            if "teacher" in inputs:
                teacher = inputs["teacher"]
                with torch.no_grad(), model.disable_adapter():
                    t_logits = model(
                        input_ids=teacher["input_ids"], attention_mask=teacher["attention_mask"]
                    ).logits
                mask = (inputs["s_pos"] >= 0).reshape(-1)
                kl = token_kl(
                    gather_rows(t_logits, inputs["t_pos"]), gather_rows(logits, inputs["s_pos"]), mask
                )
                sft = sft + self.kl_weight * kl
        if "pg" in inputs:
            part = inputs["pg"]
            logits = model(input_ids=part["input_ids"], attention_mask=part["attention_mask"]).logits
            pg = token_ce(logits, part["labels"])
        loss = joint(pg, sft, self.ratio)
        return (loss, None) if return_outputs else loss


def train_adapter(
    config: StudentConfig,
    model_path: str | Path,
    rows: list[dict[str, Any]],
    out: Path,
    *,
    device: str = "cpu",
    pad_id: int = 0,
    progress: bool = True,
    callbacks: list[Any] | None = None,
    bf16: bool | None = None,
) -> dict[str, Any]:
    """Train the adapter on ``rows``, resuming from ``out/checkpoints``; save it to ``out``; return metrics.
    ``bf16`` None means bf16 on CUDA, and bf16 autocast on a CPU with native bf16 (fp32 on other CPUs)."""
    from train.bootstrap import cpu_has_bf16

    if not rows:
        raise ValueError(
            f"no training rows for {config.method} on {config.env}: the synthesized data is empty"
        )
    model = load_student(model_path, config, device)
    checkpoints = out / "checkpoints"
    total = config.total_steps(len(rows))
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        max_steps=total,
        learning_rate=config.lr,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, round(config.warmup_ratio * total)),
        max_grad_norm=config.max_grad_norm,
        logging_steps=max(1, total // 20),
        save_strategy="steps",
        save_steps=max(1, total // 4),
        save_total_limit=2,
        seed=config.training_seed,
        data_seed=config.training_seed,
        bf16=(device == "cuda" or cpu_has_bf16()) if bf16 is None else bf16,
        use_cpu=device == "cpu",
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=not progress,
    )
    trainer = StudentTrainer(
        model=model,
        args=args,
        train_dataset=rows,  # type: ignore[arg-type]
        data_collator=Collator(pad_id),
        ratio=config.ratio if config.method == "gcd" else 1.0,
        kl_weight=config.kl_weight,
        callbacks=callbacks,
    )
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    result = trainer.train(resume_from_checkpoint=last)
    model.save_pretrained(out)
    history = [h for h in trainer.state.log_history if "loss" in h]
    with open(out / "loss_log.jsonl", "w") as f:
        for entry in history:
            f.write(json.dumps(entry) + "\n")
    return {
        "steps": total,
        "rows": len(rows),
        "resumed_from": Path(last).name if last else None,
        "train_runtime_s": result.metrics.get("train_runtime"),
        "final_loss": history[-1]["loss"] if history else None,
        "device": device,
        "bf16": bool(args.bf16),
    }
