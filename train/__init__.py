"""Training: the embedded default model (this package's ``bootstrap``) and, on top of it, the students.

The default model ships in ``models/default-cpu``; it is rebuilt from scratch, offline, on one command::

    python -m train.bootstrap            # corpus -> tokenizer -> small Llama; about 2.5 hours on 2 CPU cores

Modules: ``corpus`` (oracle transcripts of the envs under every prompt variant), ``tokenizer`` (byte-level
BPE with a chat template), ``presets`` (model sizes per machine), ``bootstrap`` (the training loop),
``default_model`` (find the shipped or a locally built default model), ``paths`` (``$PROMPTLESS_HOME``),
``students`` (GCD and the distillation baselines: ``python -m harness.train``).
"""
