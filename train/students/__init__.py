"""Students: the base model plus a LoRA adapter that acts without the env's prompt in context.

One pipeline trains them all, one adapter per (method, env). Stages, each a cached folder:

1. ``inputs``: pseudo task inputs (the env's train split, or a capable model's invented ones);
2. ``outputs``: the base model's greedy first reply without (AS-IS) and with (TO-BE) the prompt;
3. ``reasons``: why the prompt changed the reply (a reason model, or a deterministic explainer);
4. ``conversations``: the prompted teacher's multi-turn conversations (self role-play, or the real env);
5. ``adapter``: LoRA training with the method's loss (``train.students.losses``).

Methods (``METHODS``): ``gcd`` (SFT + prompt generation), ``seqkd`` (SFT), ``seqkd-kld`` (SFT + KL to the
prompted teacher), ``prepend-100`` / ``prepend-50`` (the prompt in context during training always / half the
time). Entry points: ``python -m harness.train`` and ``train.students.build.build_adapter``.
"""

import logging

# transformers and peft import bitsandbytes, whose CPU backend tries to download a 4-bit kernel from a hub at
# import and logs a warning when it cannot; students load 4-bit only on CUDA, so that attempt means nothing.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

METHODS: tuple[str, ...] = ("gcd", "seqkd", "seqkd-kld", "prepend-100", "prepend-50")
