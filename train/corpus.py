"""Expert corpus of the default model: the envs' oracles played on the ``train`` splits, under every prompt variant.

Each task of each env is played for real once (OS episodes in Docker) and written under every prompt variant:
observations do not depend on the variant, and at every turn the oracle's reply is rendered in each variant's
format, which that variant's parser accepts (a test checks all variants parse back to the same actions). Every
conversation keeps the variant's prompt: the model is never trained on a prompt-less conversation, which is
what makes it depend on its prompt. A smaller share is also written from the ENVIRONMENT's side (roles
swapped: the model plays the env, as in GCD's self role-play).

One JSON object per line::

    {"env": "shop", "variant": "json", "task_id": "...", "kind": "agent" | "env", "score": 1.0,
     "prompt": [...messages], "messages": [...episode turns]}

The corpus is cached under ``$PROMPTLESS_HOME/corpus/<key>/`` where the key hashes the config and the envs'
source, so a re-run with the same config is instant. ``corpus_meta.json`` records the config, the counts and
the data hash (sha256 of ``corpus.jsonl``).

Example::

    python -m train.corpus --episodes-per-env 100 --seed 0
    python -m train.corpus --out /tmp/corpus --envs web,shop --episodes-per-env 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import envs
from agents.env_pool import EnvPool
from envs.core import text_env
from train.oracle_episodes import Episode, agent_records, env_record, play_oracle_variants
from train.paths import promptless_home

CORPUS_FILE = "corpus.jsonl"
META_FILE = "corpus_meta.json"
CORPUS_FORMAT = 5  # bump when the record layout or the episodes' seeding changes


@dataclass(frozen=True)
class CorpusConfig:
    """What to play: which envs, how many train tasks per env, which variants, which seed."""

    envs: tuple[str, ...] = ("os", "web", "shop")
    episodes_per_env: int = 100
    episodes_by_env: tuple[tuple[str, int], ...] = ()  # per-env overrides, e.g. (("os", 100),)
    variants: tuple[str, ...] | None = None  # None: every variant each env offers
    env_share: float = 0.1  # env-side conversations per agent-side one
    min_score: float = 1.0  # oracle episodes scoring less are dropped (and counted)
    seed: int = 0
    os_concurrency: int = 4  # OS episodes in flight at once (each has its own container)

    def episodes_for(self, env_name: str) -> int:
        """How many train tasks of ``env_name`` to play (each under every variant)."""
        return dict(self.episodes_by_env).get(env_name, self.episodes_per_env)

    def key(self) -> str:
        """Cache key: this config (minus concurrency, which changes no record) and the envs' source."""
        payload = asdict(self)
        payload.pop("os_concurrency")
        payload["format"] = CORPUS_FORMAT
        payload["envs_source"] = envs_source_hash()
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Corpus:
    """A built corpus on disk."""

    path: Path  # the corpus.jsonl file
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def data_hash(self) -> str:
        return str(self.meta["data_hash"])

    def records(self) -> list[dict[str, Any]]:
        return load_records(self.path)


def envs_source_hash() -> str:
    """sha256 of the envs package's files, so a changed env invalidates the cache.

    The upstream data the envs read (prompts, tasks) lives in the data cache, not in the package; its bytes
    still enter this hash through ``envs/upstream/manifest.py``, which pins every file's sha256 (and the
    loader refuses any other bytes).
    """
    root = Path(envs.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_records(path: Path) -> list[dict[str, Any]]:
    """Read a corpus JSONL file."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def variants_of(env_name: str, wanted: Sequence[str] | None) -> tuple[str, ...]:
    """The env's prompt variants, or the ``wanted`` ones after checking the env offers them."""
    env = envs.make(env_name, split="train", limit=1)
    try:
        offered = tuple(text_env(env).prompt_variants)
    finally:
        env.close()
    if wanted is None:
        return offered
    unknown = [v for v in wanted if v not in offered]
    if unknown:
        raise ValueError(f"env {env_name!r} has no prompt variant(s) {unknown}; it offers {list(offered)}")
    return tuple(wanted)


def corpus_seed(config: CorpusConfig, env_name: str, task_index: int) -> int:
    """Reset seed of a corpus task's episode: the same under every variant, so that each variant replays the
    same episode (same observations, same actions) and only the prompt and the reply format differ. Not
    ``agents.rollout.episode_seed`` (a run's seed per task id): the corpus's values are fixed by its hash."""
    env_index = ("os", "web", "shop").index(env_name) if env_name in ("os", "web", "shop") else 3
    return config.seed * 10_000_000 + env_index * 1_000_000 + task_index


def play_env(
    env_name: str, config: CorpusConfig, on_done: Any = None
) -> tuple[list[Episode], list[str], list[Episode]]:
    """Play every (task, variant) of one env; returns kept episodes, error messages and dropped episodes."""
    variants = variants_of(env_name, config.variants)
    n_tasks = config.episodes_for(env_name)
    probe = envs.make(env_name, split="train", limit=n_tasks)
    try:
        task_ids = list(text_env(probe).task_ids())[:n_tasks]
    finally:
        probe.close()
    jobs = list(enumerate(task_ids))
    pool = EnvPool(lambda: envs.make(env_name, split="train", prompt_variant=variants[0], limit=n_tasks))
    workers = config.os_concurrency if env_name == "os" else 1
    if env_name == "os":
        from envs.os_shell.sandbox import shared_pool

        shared_pool(size=workers)  # warm as many sandboxes as episodes in flight (first call sets the size)

    def run(job: tuple[int, str]) -> list[Episode]:
        ti, tid = job
        env = pool.take()
        try:
            played = play_oracle_variants(env, tid, corpus_seed(config, env_name, ti), env_name, variants)
        except Exception:
            pool.give_back(env, reusable=False)  # its state after a failed episode is unknown
            raise
        pool.give_back(env)
        return played

    results: dict[int, list[Episode]] = {}
    errors: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = {executor.submit(run, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except Exception as exc:  # one broken episode must not sink the corpus; counted below
                    errors.append(f"{env_name}/{jobs[i][1]}: {type(exc).__name__}: {exc}")
                if on_done is not None:
                    on_done()
    finally:
        pool.close()
    ordered = [ep for i in sorted(results) for ep in results[i]]  # job order, whatever the completion order
    kept = [ep for ep in ordered if ep.score >= config.min_score]
    dropped = [ep for ep in ordered if ep.score < config.min_score]
    return kept, errors, dropped


def opens_top_result(ep: Episode) -> bool:
    """Whether a shop episode's every product click opens the first product its results page lists.

    Why: the shop oracle picks a product that scores full reward, which it knows from the hidden goal. When
    that is the top search result (about three episodes in four) the choice follows from what the page
    shows; otherwise it looks arbitrary to a reader of the page, and a student trained on both learns a
    blur of the two ("click some id") instead of the visible rule "open the top result". The corpus keeps
    the first kind only; every kept episode still scores full reward.
    """
    from envs.web_shop.pages import BACK, NEXT, PREV
    from envs.web_shop.protocol import (
        InvalidAction,
        is_first_results_page,
        observation_clickables,
        parse_reply,
    )

    controls = {BACK, NEXT, PREV}
    for before, reply in zip(ep.messages[0::2], ep.messages[1::2], strict=False):
        if not is_first_results_page(before["content"]):
            continue
        try:
            action = parse_reply(reply["content"], ep.variant)
        except InvalidAction:
            return False
        listed = observation_clickables(before["content"])
        products = [c for c in listed if c not in controls]
        if action.kind == "click" and action.argument not in controls and products[:1] != [action.argument]:
            return False
    return True


#: Per env, which oracle episodes make consistent demonstrations (see each predicate's docstring).
CONSISTENT: dict[str, Callable[[Episode], bool]] = {"shop": opens_top_result}


def iter_records(episodes: Sequence[Episode], env_share: float, seed: int) -> Iterator[dict[str, Any]]:
    """Agent-side records for every episode, env-side ones for a seeded ``env_share`` of them."""
    rng = random.Random(seed)
    n_env = round(env_share * len(episodes))
    env_side = set(rng.sample(range(len(episodes)), n_env)) if n_env else set()
    for i, ep in enumerate(episodes):
        yield from agent_records(ep)
        if i in env_side:
            yield env_record(ep)


def build_corpus(
    config: CorpusConfig, out_dir: Path | None = None, *, force: bool = False, progress: bool = True
) -> Corpus:
    """Build the corpus into ``out_dir`` (default: the cache folder of ``config``), or reuse a complete one."""
    for name in config.envs:
        envs.env_id(name)  # clear error on a typo before any episode runs
    key = config.key()
    out = Path(out_dir) if out_dir is not None else promptless_home() / "corpus" / key
    meta_path = out / META_FILE
    if not force and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key and (out / CORPUS_FILE).exists():
            return Corpus(out / CORPUS_FILE, meta)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    all_episodes: list[Episode] = []
    stats: dict[str, Any] = {}
    bar = _progress(progress)
    with bar:
        for name in config.envs:
            task = bar.add_task(f"corpus {name}", total=config.episodes_for(name))
            env_started = time.monotonic()
            kept, errors, dropped = play_env(name, config, on_done=lambda t=task: bar.advance(t))
            consistent = CONSISTENT.get(name, lambda ep: True)
            verdicts = [consistent(ep) for ep in kept]
            inconsistent = [ep for ep, ok in zip(kept, verdicts, strict=True) if not ok]
            kept = [ep for ep, ok in zip(kept, verdicts, strict=True) if ok]
            n_variants = len(variants_of(name, config.variants))
            total = len(kept) + n_variants * len(errors) + len(dropped)  # in episodes (one per variant)
            if total and (n_variants * len(errors) + len(dropped)) > 0.2 * total:
                shown = "\n  ".join(errors[:5])
                raise RuntimeError(
                    f"{name}: {len(errors)} failed and {len(dropped)} low-scoring oracle episodes out of {total}; "
                    f"the env or its oracle is broken. First errors:\n  {shown}"
                )
            stats[name] = {
                "kept": len(kept),
                "errors": len(errors),
                "dropped_low_score": len(dropped),
                "dropped_inconsistent": len(inconsistent),
                "error_samples": errors[:5],
                "seconds": round(time.monotonic() - env_started, 1),
            }
            all_episodes.extend(kept)
    tmp = out / (CORPUS_FILE + ".tmp")
    counts: dict[str, int] = {}
    with tmp.open("w", encoding="utf-8") as handle:
        for record in iter_records(all_episodes, config.env_share, config.seed):
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            tag = f"{record['env']}/{record['variant']}/{record['kind']}"
            counts[tag] = counts.get(tag, 0) + 1
    tmp.replace(out / CORPUS_FILE)
    meta = {
        "key": key,
        "config": asdict(config),
        "format": CORPUS_FORMAT,
        "envs_source": envs_source_hash(),
        "data_hash": file_sha256(out / CORPUS_FILE),
        "counts": dict(sorted(counts.items())),
        "per_env": stats,
        "wall_s": round(time.monotonic() - started, 1),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    # The meta file is written last: its presence marks a complete corpus.
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True))
    return Corpus(out / CORPUS_FILE, meta)


def _progress(enabled: bool) -> Any:
    """A rich progress bar; ``disable=True`` makes every call a no-op when progress output is off."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
        disable=not enabled,
    )


def parse_episodes(text: str) -> tuple[int, tuple[tuple[str, int], ...]]:
    """Read ``N`` or ``os=100,web=200[,N]`` into (default count, per-env overrides)."""
    default = CorpusConfig.episodes_per_env
    by_env: list[tuple[str, int]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, count = part.rpartition("=")
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--episodes-per-env: {part!r} is not N or ENV=N with N >= 1")
        if name:
            envs.env_id(name)
            by_env.append((name, int(count)))
        else:
            default = int(count)
    return default, tuple(by_env)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="folder to write (default: the cache folder)")
    parser.add_argument("--envs", default="os,web,shop", help="comma-separated env names")
    parser.add_argument(
        "--episodes-per-env",
        default=str(CorpusConfig.episodes_per_env),
        help="train tasks per env, each played under every variant: N, or per env as os=100,web=200",
    )
    parser.add_argument("--variants", default=None, help="comma-separated prompt variants (default: all)")
    parser.add_argument("--env-share", type=float, default=CorpusConfig.env_share)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--os-concurrency", type=int, default=CorpusConfig.os_concurrency)
    parser.add_argument("--force", action="store_true", help="rebuild even if a cached corpus exists")
    args = parser.parse_args(argv)
    try:
        default, by_env = parse_episodes(args.episodes_per_env)
    except ValueError as exc:
        parser.error(str(exc))
    config = CorpusConfig(
        envs=tuple(e.strip() for e in args.envs.split(",") if e.strip()),
        episodes_per_env=default,
        episodes_by_env=by_env,
        variants=tuple(v.strip() for v in args.variants.split(",")) if args.variants else None,
        env_share=args.env_share,
        seed=args.seed,
        os_concurrency=args.os_concurrency,
    )
    corpus = build_corpus(config, args.out, force=args.force)
    print(
        json.dumps(
            {"path": str(corpus.path), **{k: corpus.meta[k] for k in ("data_hash", "counts", "wall_s")}}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
