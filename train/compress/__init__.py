"""Prompt-compression baselines: the prompt shortened or encoded instead of internalized in a LoRA.

Methods (``COMPRESSION_METHODS``), each trained per env on the student pipeline's shared data
(``train.students``: the same stage folders, the same teacher conversations) and cached beside the students:

- ``llmlingua2``: a keep/drop word classifier in the Hugging Face token-classification format, run by the
  ``llmlingua`` package (``agents.lingua``); the agents ``llmlingua2-30/-50/-70`` drop that share of tokens.
- ``gist``: k trainable gist tokens plus LoRA, trained with the gist attention rule (``agents.gist``); the
  agents ``gist-1/-2/-5`` use k = 1, 2, 5 (``gist`` alone: k = 1).
- ``icae``: memory slots from an encoder LoRA, read by the frozen base model (``agents.icae``).

Entry points: ``python -m harness.train --method llmlingua2 --env os`` and ``train.compress.build``.
"""

from typing import Any

COMPRESSION_METHODS: tuple[str, ...] = ("llmlingua2", "gist", "icae")


def compression_method(agent: str) -> str | None:
    """The compression method that agent ``agent`` runs (``llmlingua2-30`` -> ``llmlingua2``), else None."""
    for method in COMPRESSION_METHODS:
        if agent == method or agent.startswith(method + "-"):
            return method
    return None


def agent_recipe(agent: str) -> dict[str, Any]:
    """The compressor settings an agent's name fixes: ``gist-5`` -> ``{"gist_k": 5}``; else none."""
    from agents.registry import gist_k

    k = gist_k(agent)
    return {"gist_k": k} if k is not None else {}
