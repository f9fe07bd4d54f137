"""``python -m harness.run`` on the envs' public data files: WebShop's products and human goals, Mind2Web's
rows with a scores file, and one-line answers (status 2) to data files given wrongly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.run import main

DATA = Path(__file__).parents[1] / "envs" / "data"
SHOP = DATA / "webshop_sample"


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside main
        return int(exc.code or 0)


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]


def test_shop_runs_on_webshop_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = [
        "--agent", "oracle", "--env", "shop", "--out", str(out),
        "--products", str(SHOP / "items_shuffle_sample.json"),
        "--attributes", str(SHOP / "items_ins_v2_sample.json"),
        "--goals", str(SHOP / "items_human_ins_sample.json"),
    ]  # fmt: skip
    assert _status(argv) == 0, capsys.readouterr().err
    records = _records(out)
    assert sorted(r["task_id"] for r in records) == ["shop-human-0000", "shop-human-0001"]
    assert all(r["score"] == 1.0 for r in records)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["goals_file"].endswith("items_human_ins_sample.json")
    # a resumed run must name the same files
    other = tmp_path / "human.json"
    other.write_text((SHOP / "items_human_ins_sample.json").read_text())
    assert _status([*argv[:-1], str(other), "--resume"]) == 2
    assert "goals_file" in capsys.readouterr().err


def test_web_runs_on_mind2web_rows_with_ranks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = [
        "--agent", "oracle", "--env", "web", "--out", str(out),
        "--tasks", str(DATA / "mind2web_rows_sample.jsonl"), "--ranks", str(DATA / "mind2web_scores_sample.json"),
    ]  # fmt: skip
    assert _status(argv) == 0, capsys.readouterr().err
    records = _records(out)
    assert sorted(r["task_id"] for r in records) == ["hand-books-01-0", "hand-books-01-2", "hand-garden-01-0"]
    assert all(r["score"] == 1.0 for r in records)


BAD = [
    (["--env", "shop", "--goals", str(SHOP / "items_human_ins_sample.json")], "give --products too"),
    (["--env", "web", "--products", str(SHOP / "items_shuffle_sample.json")], "--products is a file of the 'shop' env"),
    (["--env", "shop,web", "--products", str(SHOP / "items_shuffle_sample.json")], "give --env shop alone"),
    (["--env", "shop", "--products", "/no/such/items.json"], "--products file not found: /no/such/items.json"),
    (["--env", "web", "--ranks", str(DATA / "mind2web_scores_sample.json")], "give --tasks too"),
    (
        ["--env", "shop", "--products", str(SHOP / "items_shuffle_sample.json"),
         "--goals", str(SHOP / "items_human_ins_sample.json"), "--tasks", str(SHOP / "items_human_ins_sample.json")],
        "either --goals",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[m for _, m in BAD])
def test_data_files_given_wrongly_are_one_line_status_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _status(["--agent", "oracle", *argv, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 2 and message in err, err
    assert err.strip().count("\n") == 0 and "Traceback" not in err


def test_bad_products_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    products = tmp_path / "items.json"
    products.write_text(json.dumps({"asin": "B0X"}))
    status = _status(
        ["--agent", "oracle", "--env", "shop", "--products", str(products), "--out", str(tmp_path / "r")]
    )
    err = capsys.readouterr().err
    assert status == 2 and f"products file '{products}' must hold a JSON list of products" in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    ranks = tmp_path / "scores.pkl"
    ranks.write_bytes(b"\x80\x04garbage")
    argv = ["--agent", "oracle", "--env", "web", "--tasks", str(DATA / "mind2web_rows_sample.jsonl")]
    status = _status([*argv, "--ranks", str(ranks), "--out", str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert status == 2 and f"{ranks}: not a Mind2Web scores file" in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
