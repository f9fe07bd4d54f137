"""Student adapters for a run: the cached ones, built first when missing (unless ``--no-build``).

``harness.run --agent gcd`` with no ``--adapter`` on a local model asks here for one adapter per env, keyed
by the model's fingerprint, the method, the env and the recipe (``train.students.build``), exactly as
``python -m harness.train --method gcd --env ...`` would build them. The compression agents
(``llmlingua2-50``, ``gist-2``, ``icae``, ...) get their per-env compressor folder the same way
(``train.compress``; ``gist-K`` builds the k = K gists, as ``--method gist --gist-k K`` does).

Example::

    adapters = student_adapters(config)   # {"shop": ".../students/<model>/gcd/shop/<recipe>"}
"""

from __future__ import annotations

from typing import Any

from harness.plugins import UsageError, env_factory


def is_student(agent: str) -> bool:
    from train.students import METHODS

    return agent in METHODS


def student_adapters(config: Any) -> dict[str, str]:
    """Per env, the adapter folder of ``config.agent`` on ``config.model``; empty when none is needed (not a
    student, an ``--adapter`` given, or a server URL whose server holds the adapter)."""
    if config.adapter or not config.model or str(config.model).startswith(("http://", "https://")):
        return {}
    from train.compress import compression_method

    method = compression_method(config.agent)
    if method is not None:
        return compressors(config, method)
    if not is_student(config.agent):
        return {}
    from train.students.build import AdapterMissing, build_adapter
    from train.students.config import StudentConfig
    from train.students.trainer import resolve_device

    device = resolve_device("auto")
    adapters: dict[str, str] = {}
    for env in config.envs:
        recipe = StudentConfig.default(config.agent, env, device=device)
        make_env = env_factory(env, split="train", limit=recipe.n_inputs)
        try:
            adapters[env] = str(
                build_adapter(recipe, config.model, make_env, device=device, build=config.build)
            )
        except AdapterMissing as exc:
            raise UsageError(str(exc)) from None
    return adapters


def compressors(config: Any, method: str) -> dict[str, str]:
    """Per env, the folder of compressor ``method`` (``train.compress``) on ``config.model``, built when
    missing, exactly as ``python -m harness.train --method METHOD --env ...`` builds it."""
    from train.compress import agent_recipe
    from train.compress.build import build_compressor
    from train.compress.config import CompressConfig
    from train.students.build import AdapterMissing
    from train.students.trainer import resolve_device

    device = resolve_device("auto")
    folders: dict[str, str] = {}
    for env in config.envs:
        recipe = CompressConfig.default(method, env, device=device, **agent_recipe(config.agent))
        make_env = env_factory(env, split="train", limit=recipe.data.n_inputs)
        try:
            folders[env] = str(
                build_compressor(recipe, config.model, make_env, device=device, build=config.build)
            )
        except AdapterMissing as exc:
            raise UsageError(str(exc)) from None
    return folders
