"""Training: the embedded default model (this package's ``bootstrap``) and, on top of it, the students.

The default model is built from scratch, offline, on one command::

    python -m train.bootstrap            # corpus -> tokenizer -> small Llama; 51 min on a 2-core Xeon VM

Modules: ``corpus`` (oracle transcripts of the envs under every prompt variant), ``tokenizer`` (byte-level
BPE with a chat template), ``presets`` (model sizes per machine), ``bootstrap`` (the training loop),
``default_model`` (find or build the cached default model), ``paths`` (``$PROMPTLESS_HOME``).
"""
