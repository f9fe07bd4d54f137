"""Shared test parts: a tiny causal LM built from scratch, and a fake OpenAI-compatible server.

The model is a byte-level BPE tokenizer plus a random Llama. Nothing is downloaded: the tokenizer is trained on
a few hundred generated strings, the model is randomly initialised (with a wide init so that greedy choices are
far from ties), and both are saved to a temp folder. The server (``fake_openai_server``) is a real HTTP server
on 127.0.0.1 whose answers a test scripts, for clients that must cope with any server.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL_TOKENS = ["<|pad|>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]


def corpus(n: int = 400, seed: int = 0) -> list[str]:
    """Strings in the shape of agent transcripts (shell commands, thoughts, shop actions)."""
    rng = random.Random(seed)
    words = "file count list directory search click buy size color price bottle think answer output".split()
    commands = ["ls -1 /etc | wc -l", "cat /tmp/a.txt", "find / -name '*.py'", "echo hello", "grep -c x f"]
    lines = []
    for i in range(n):
        w = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))
        kind = i % 3
        if kind == 0:
            lines.append(f"Think: I need to {w}.\n\nAct: bash\n\n```bash\n{rng.choice(commands)}\n```")
        elif kind == 1:
            lines.append(f"Thought:\nI think I should {w}.\n\nAction:\nsearch[{w}]")
        else:
            lines.append(f"The output of the OS:\n{rng.randint(0, 999)} {w}")
    return lines


def build_tiny_model(
    folder: Path,
    *,
    chat_template: bool = True,
    max_positions: int = 512,
    hidden_size: int = 32,
    kv_heads: int = 2,
) -> Path:
    """Train the tokenizer, random-init a 2-layer Llama (hidden 32 unless told) and save both under ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    raw.train_from_iterator(corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|end|>", pad_token="<|pad|>")
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        initializer_range=0.2,
        tie_word_embeddings=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


# Each behaviour gets (path, request body or None, request number from 1) and returns (status, payload, headers).
Behaviour = Callable[[str, Any, int], tuple[int, Any, dict[str, str]]]


@contextmanager
def fake_openai_server(behaviour: Behaviour, *, trickle_s: float = 0.0) -> Iterator[tuple[str, list[Any]]]:
    """A real HTTP server on 127.0.0.1 that answers as ``behaviour`` says: an OpenAI-compatible server that
    misbehaves on purpose. Yields its URL and the requests seen (``{"path", "auth", "body"}``, in order).
    ``trickle_s`` > 0 sends each answer one byte at a time with that pause: no single read waits long.
    """
    seen: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: Any) -> None:
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            status, payload, headers = behaviour(self.path, body, len(seen))
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = 1 if trickle_s > 0 else len(data)
                for i in range(0, len(data), step):
                    self.wfile.write(data[i : i + step])
                    self.wfile.flush()
                    time.sleep(trickle_s)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout tests)

        def do_GET(self) -> None:
            self._answer(None)

        def do_POST(self) -> None:
            self._answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
