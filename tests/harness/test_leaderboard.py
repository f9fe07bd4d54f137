"""The leaderboard on hand-made run folders, against numbers worked out by hand."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from harness.leaderboard import COLUMNS, LeaderboardError, collect, main


def _rec(
    env: str,
    task: str,
    agent: str,
    score: float,
    *,
    flops: float | None,
    wall: float,
    prompt: int = 0,
    error: str | None = None,
    when: str = "2026-11-21T10:00:00.000+00:00",
) -> dict:
    return {
        "env": env,
        "task_id": task,
        "agent": agent,
        "score": score,
        "error": error,
        "metrics": {},
        "transcript": [],
        "turns": 1,
        "truncated": False,
        "wall_s": wall,
        "env_s": 0.0,
        "agent_s": wall,
        "usage": {
            "calls": 1,
            "prompt_tokens": prompt,
            "cached_tokens": 0,
            "generated_tokens": 10,
            "wall_s": wall,
            "flops": flops,
        },
        "started_at": when,
        "finished_at": when,
        "seed": 0,
    }


def _write(folder: Path, records: list[dict], torn: bool = False) -> None:
    folder.mkdir(parents=True)
    text = "".join(json.dumps(r) + "\n" for r in records)
    (folder / "episodes.jsonl").write_text(text + ('{"env": "os", "ta' if torn else ""))


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    teacher = [
        _rec("os", "t1", "teacher", 0.0, flops=100, wall=2.0, prompt=500, error="RuntimeError: flaky"),
        _rec("os", "t1", "teacher", 1.0, flops=100, wall=2.0, prompt=500),  # the retry: latest wins
        _rec("os", "t2", "teacher", 0.0, flops=100, wall=2.0, prompt=500),
        _rec("os", "t3", "teacher", 1.0, flops=100, wall=2.0, prompt=500),
        _rec("os", "t4", "teacher", 1.0, flops=100, wall=2.0, prompt=500),
    ]
    _write(root / "teacher", teacher, torn=True)
    gcd = [
        _rec("os", "t1", "gcd", 1.0, flops=50, wall=1.5, prompt=20),
        _rec("os", "t2", "gcd", 0.0, flops=50, wall=1.5, prompt=20),
        _rec("os", "t3", "gcd", 0.0, flops=50, wall=1.5, prompt=20, error="TimeoutError: slow"),
        _rec("os", "t4", "gcd", 1.0, flops=50, wall=1.5, prompt=20),
        _rec("web", "w1", "gcd", 1.0, flops=10, wall=1.0),
        _rec("web", "w2", "gcd", 1.0, flops=30, wall=3.0),
    ]
    _write(root / "gcd-new", [dict(r, finished_at="2026-11-21T12:00:00.000+00:00") for r in gcd])
    # An older run of the same agent on os: ignored, with a warning.
    _write(root / "gcd-old", [_rec("os", "t1", "gcd", 0.0, flops=50, wall=1.5)])
    _write(root / "nested" / "oracle", [_rec("os", "t1", "oracle", 1.0, flops=0, wall=0.0)])
    return root


def test_rows_match_hand_computed_numbers(runs: Path) -> None:
    with pytest.warns(UserWarning) as caught:
        rows = collect(runs)
    messages = [str(w.message) for w in caught]
    assert any("'gcd'" in m and "using 'gcd-new'" in m and "ignoring 'gcd-old'" in m for m in messages)
    assert any("torn last line" in m for m in messages)

    assert [(r.env, r.agent) for r in rows] == [
        ("os", "oracle"),
        ("os", "teacher"),
        ("os", "gcd"),
        ("web", "gcd"),
    ]
    by = {(r.env, r.agent): r for r in rows}
    teacher, gcd, web = by[("os", "teacher")], by[("os", "gcd")], by[("web", "gcd")]
    # teacher os: scores 1, 0, 1, 1 -> mean 0.75; sample sd 0.5 -> stderr 0.25.
    assert teacher.episodes == 4 and teacher.errors == 0
    assert teacher.score == pytest.approx(0.75) and teacher.stderr == pytest.approx(0.25)
    # gcd os: 1, 0, 0 (error), 1 -> 0.5; sd sqrt(1/3) -> stderr sqrt(1/3)/2.
    assert gcd.errors == 1 and gcd.score == pytest.approx(0.5)
    assert gcd.stderr == pytest.approx(math.sqrt(1 / 3) / 2)
    assert gcd.score_vs_teacher == pytest.approx(0.5 / 0.75)
    assert gcd.flops_vs_teacher == pytest.approx(0.5) and gcd.latency_vs_teacher == pytest.approx(0.75)
    assert gcd.prompt_tokens == 20 and teacher.prompt_tokens == 500 and gcd.run == "gcd-new"
    assert teacher.score_vs_teacher == 1.0
    # web has no teacher row: the ratios stay empty.
    assert web.flops_per_episode == 20 and web.latency_s == 2.0 and web.score_vs_teacher is None
    assert by[("os", "oracle")].run == str(Path("nested") / "oracle")


def test_cli_writes_csv_and_plot(runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lb" / "leaderboard.csv"
    assert main(["--runs", str(runs), "--out", str(out)]) == 0
    with open(out, newline="") as f:
        table = list(csv.DictReader(f))
    assert tuple(table[0]) == COLUMNS
    gcd = next(r for r in table if r["env"] == "os" and r["agent"] == "gcd")
    assert (
        gcd["score"] == "0.5" and gcd["score_vs_teacher"] == "0.666667" and gcd["flops_vs_teacher"] == "0.5"
    )
    web = next(r for r in table if r["env"] == "web")
    assert web["score_vs_teacher"] == "" and web["errors"] == "0"
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    captured = capsys.readouterr()
    assert "teacher" in captured.out and "warning:" in captured.err


def test_empty_or_missing_runs_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(LeaderboardError, match=r"no episodes\.jsonl"):
        collect(tmp_path)
    assert main(["--runs", str(tmp_path / "absent"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "runs folder not found" in capsys.readouterr().err


def _summary(folder: Path, model: str) -> None:
    (folder / "summary.json").write_text(json.dumps({"model": model}))


def test_rows_are_keyed_by_model_and_compared_with_their_own_teacher(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for name, model, score in (("ta", "/m/a", 0.5), ("tb", "/m/b", 1.0)):
        _write(runs / name, [_rec("shop", "t0", "teacher", score, flops=10.0, wall=1.0)])
        _summary(runs / name, model)
    _write(runs / "s", [_rec("shop", "t0", "gcd", 0.5, flops=5.0, wall=1.0)])
    _summary(runs / "s", "/m/a")
    rows = {(r.agent, r.model): r for r in collect(runs)}
    assert set(rows) == {("teacher", "a"), ("teacher", "b"), ("gcd", "a")}
    assert rows[("gcd", "a")].score_vs_teacher == 1.0  # against teacher on a (0.5), not on b (1.0)
    assert rows[("gcd", "a")].flops_vs_teacher == 0.5


def test_a_run_keeps_the_model_label_it_recorded_when_the_folder_gets_new_weights(tmp_path: Path) -> None:
    """A new default model replaces models/default-cpu in place: the old runs stay credited to the old one."""
    model = tmp_path / "default-cpu"
    model.mkdir()
    (model / "COMPLETE").write_text(json.dumps({"preset_fingerprint": "new"}))
    runs = tmp_path / "runs"
    _write(runs / "old", [_rec("os", "t0", "teacher", 0.0, flops=1.0, wall=1.0)])
    (runs / "old" / "summary.json").write_text(
        json.dumps({"model": str(model), "model_label": "default-cpu@old"})
    )
    _write(runs / "legacy", [_rec("os", "t0", "noprompt", 0.0, flops=1.0, wall=1.0)])
    _summary(runs / "legacy", str(model))  # a summary from before labels were recorded: read from the folder
    assert {(r.agent, r.model) for r in collect(runs)} == {
        ("teacher", "default-cpu@old"),
        ("noprompt", "default-cpu@new"),
    }


def test_writing_keeps_rows_that_were_not_rerun(tmp_path: Path) -> None:
    first, second, out = tmp_path / "r1", tmp_path / "r2", tmp_path / "board.csv"
    _write(first / "teacher", [_rec("os", "t0", "teacher", 1.0, flops=1.0, wall=1.0)])
    _write(second / "oracle", [_rec("os", "t0", "oracle", 1.0, flops=0.0, wall=0.0)])
    assert main(["--runs", str(first), "--out", str(out), "--no-plot"]) == 0
    assert main(["--runs", str(second), "--out", str(out), "--no-plot"]) == 0
    with open(out) as f:
        agents = sorted(r["agent"] for r in csv.DictReader(f))
    assert agents == ["oracle", "teacher"]
    assert main(["--runs", str(second), "--out", str(out), "--no-plot", "--replace"]) == 0
    with open(out) as f:
        assert [r["agent"] for r in csv.DictReader(f)] == ["oracle"]


def test_rewriting_the_board_leaves_rows_that_were_not_rerun_unchanged(tmp_path: Path) -> None:
    # teacher 1/2 and gcd 1/3: 0.333333 / 0.5 as written is 0.666666, 0.3333... / 0.5 is 0.666667
    first, second, out = tmp_path / "r1", tmp_path / "r2", tmp_path / "board.csv"
    _write(
        first / "teacher",
        [_rec("os", f"t{i}", "teacher", s, flops=1.0, wall=1.0) for i, s in enumerate([1, 0])],
    )
    _write(
        first / "gcd", [_rec("os", f"t{i}", "gcd", s, flops=1.0, wall=1.0) for i, s in enumerate([1, 0, 0])]
    )
    _write(second / "oracle", [_rec("os", "t0", "oracle", 1.0, flops=0.0, wall=0.0)])
    assert main(["--runs", str(first), "--out", str(out), "--no-plot"]) == 0
    before = out.read_text().splitlines()
    assert main(["--runs", str(second), "--out", str(out), "--no-plot"]) == 0
    after = out.read_text().splitlines()
    assert [line for line in after if not line.startswith("oracle")] == before
    assert any(line.startswith("gcd,os") and ",0.666666," in line for line in after)


def test_unknown_flops_stay_unknown_through_csv_table_and_plot(tmp_path: Path) -> None:
    """A foreign server reports no FLOPs: the rows say "unknown" (blank), never 0, wherever they go."""
    runs, out = tmp_path / "runs", tmp_path / "board.csv"
    url = "http://127.0.0.1:9/v1"
    _write(runs / "t", [_rec("os", f"t{i}", "teacher", 1.0, flops=None, wall=1.0) for i in range(2)])
    mixed = [
        _rec("os", "t0", "gcd", 1.0, flops=5.0, wall=1.0),
        _rec("os", "t1", "gcd", 0.0, flops=None, wall=1.0),
    ]
    _write(runs / "s", mixed)
    _write(runs / "local", [_rec("os", "t0", "noprompt", 1.0, flops=4.0, wall=1.0)])
    for name in ("t", "s"):
        _summary(runs / name, url)
    rows = {r.agent: r for r in collect(runs)}
    assert rows["teacher"].flops_per_episode is None and rows["gcd"].flops_per_episode is None
    assert rows["gcd"].flops_vs_teacher is None and rows["gcd"].score_vs_teacher == 0.5
    assert rows["noprompt"].flops_per_episode == 4.0  # known FLOPs elsewhere are untouched
    assert main(["--runs", str(runs), "--out", str(out), "--plot", str(tmp_path / "board.png")]) == 0
    with open(out) as f:
        written = {r["agent"]: r for r in csv.DictReader(f)}
    assert written["teacher"]["flops_per_episode"] == "" and written["gcd"]["flops_vs_teacher"] == ""
    assert written["noprompt"]["flops_per_episode"] == "4"
    # Read back and merged, unknown stays None (not 0).
    assert main(["--runs", str(runs / "local"), "--out", str(out), "--no-plot"]) == 0
    with open(out) as f:
        again = {r["agent"]: r for r in csv.DictReader(f)}
    assert again["teacher"]["flops_per_episode"] == "" and again["gcd"]["flops_per_episode"] == ""
    assert (tmp_path / "board.png").stat().st_size > 0


def test_unknown_flops_are_a_reference_line_in_the_plot() -> None:
    import matplotlib.pyplot as plt

    from harness.leaderboard import Row, figure

    same = dict(env="os", model="http://h/v1", episodes=2, stderr=0.0, score_vs_teacher=None,
                prompt_tokens=1.0, generated_tokens=1.0, flops_vs_teacher=None, latency_s=1.0,
                latency_vs_teacher=None, errors=0, valid_actions=None, agreement=None, run="r")  # fmt: skip
    rows = [
        Row(agent="teacher", score=1.0, flops_per_episode=None, **same),  # type: ignore[arg-type]
        Row(agent="gcd", score=0.5, flops_per_episode=5.0, **same),  # type: ignore[arg-type]
    ]
    fig = figure(rows)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    plt.close(fig)
    assert any("teacher (n=2, FLOPs unknown)" in t for t in texts), texts
    assert any(t.startswith("gcd (n=2)") for t in texts), texts  # the known one is a point


def test_markdown_tables_pivot_agents_against_envs(runs: Path, tmp_path: Path) -> None:
    md = tmp_path / "board.md"
    assert (
        main(["--runs", str(runs), "--out", str(tmp_path / "lb.csv"), "--no-plot", "--markdown", str(md)])
        == 0
    )
    lines = md.read_text().splitlines()
    assert lines[2] == "| agent | model | os | web |"
    gcd = next(line for line in lines if line.startswith("| gcd |"))
    # os: 0.5 over 4 episodes (one errored), stderr sqrt(1/3)/2; web: its own run
    assert f"0.500 ± {math.sqrt(1 / 3) / 2:.3f} (n=4)" in gcd
    fidelity = [line for line in lines if line.startswith("| gcd |")][1]
    assert "FLOPs 0.50x" in fidelity  # against the os teacher; web has none, so its cell is empty
    assert fidelity.endswith("|  |")


def test_valid_actions_is_the_share_of_replies_the_env_accepted() -> None:
    from harness.stats import env_stats

    def turn(valid: bool | None) -> dict:
        mark = {} if valid is None else {"action_valid": valid}
        return {"role": "assistant", "content": "x", **mark}

    records = [
        {"score": 0.0, "transcript": [{"role": "user", "content": "o"}, turn(True), turn(False), turn(True)]},
        {"score": 1.0, "transcript": [turn(False), turn(None)]},  # a turn without a mark is not counted
    ]
    assert env_stats(records).valid_actions == 2 / 4
    assert env_stats([{"score": 0.0}]).valid_actions is None
