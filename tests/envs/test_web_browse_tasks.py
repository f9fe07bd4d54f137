"""Web-browsing tasks: metrics, the seeded generator and its splits, and the Mind2Web loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envs.core import TaskError
from envs.web_browse.html import parse_page
from envs.web_browse.metrics import op_f1, step_metrics
from envs.web_browse.sites import SITE_KINDS, generate
from envs.web_browse.tasks import (
    TEST_SPLIT_SHA256,
    generated_episode,
    generated_episodes,
    load_mind2web,
    mind2web_episodes,
    split_digest,
)

SAMPLE = Path(__file__).parent / "data" / "mind2web_sample.json"


def test_op_f1_hand_computed() -> None:
    # {type, new, york} vs {type, new, york, city}: P = 1, R = 3/4, F1 = 6/7
    assert op_f1("TYPE", "new york", "TYPE", "new york city") == pytest.approx(6 / 7)
    assert op_f1("TYPE", "New York", "TYPE", "new york") == 1.0  # lower-cased, as Mind2Web
    assert op_f1("CLICK", "", "CLICK", "") == 1.0
    assert op_f1("CLICK", "", "CLICK", "ignored for a gold click") == 1.0
    assert op_f1("CLICK", "now", "CLICK", "") == pytest.approx(2 / 3)  # P = 1/2, R = 1
    assert op_f1("SELECT", "2", "TYPE", "3") == 0.0
    # tokens are a set, as upstream: repeated words do not count twice
    assert op_f1("TYPE", "la la", "TYPE", "la") == 1.0


def test_step_metrics() -> None:
    good = step_metrics("7", "TYPE", "boston", positives={"7"}, gold_op="TYPE", gold_value="Boston")
    assert (good.element_acc, good.op_f1, good.step_success, good.score) == (1.0, 1.0, 1.0, 1.0)
    near = step_metrics("7", "TYPE", "boston ma", positives={"7"}, gold_op="TYPE", gold_value="Boston")
    assert near.element_acc == 1.0 and near.op_f1 == pytest.approx(0.8) and near.score == 0.0
    wrong = step_metrics("8", "TYPE", "Boston", positives={"7"}, gold_op="TYPE", gold_value="Boston")
    assert (wrong.element_acc, wrong.op_f1, wrong.score) == (0.0, 1.0, 0.0)
    none = step_metrics(None, None, "", positives={"7"}, gold_op="CLICK", gold_value="")
    assert (none.element_acc, none.op_f1, none.score) == (0.0, 0.0, 0.0)


def test_generator_is_deterministic_and_covers_site_kinds() -> None:
    assert generate(123) == generate(123)
    assert generate(123) != generate(124)
    domains = {generate(seed).domain for seed in range(60)}
    assert len(SITE_KINDS) >= 8 and len(domains) == len(SITE_KINDS)


def test_generated_steps_are_well_formed() -> None:
    for seed in range(0, 400, 7):
        draft = generate(seed)
        assert len(draft.steps) >= 2, draft.goal
        for k, step in enumerate(draft.steps):
            page = parse_page(step.html)
            gold = page.index[step.positives[0]]
            assert step.operation in ("CLICK", "SELECT", "TYPE")
            assert (step.value == "") == (step.operation == "CLICK")
            if step.operation != "CLICK":
                assert step.value.lower() in draft.goal.lower() or step.value.rstrip("s") in draft.goal, (
                    seed,
                    step.value,
                )
            if step.operation == "SELECT":
                assert gold.tag == "select"
                assert step.value in [c for o in gold.elements() for c in o.children]  # a real option
            if step.operation == "TYPE":
                assert gold.tag in ("input", "textarea")
            assert len(step.negatives) >= 20 and step.positives[0] not in step.negatives
            assert all(n in page.index for n in step.negatives)
            assert len(step.previous_actions) == k


def test_splits_are_disjoint_fixed_and_pinned() -> None:
    test = generated_episodes("test")
    assert (
        len(test) == 100 and test[0].episode_id == "web-test-0000" and test[-1].episode_id == "web-test-0099"
    )
    assert split_digest("test") == TEST_SPLIT_SHA256, (
        "the test split changed: bump the env version and the digest"
    )
    dev = generated_episodes("dev")
    # disjoint seeds: no shared page, and goals repeat only by the chance of drawing the same values
    assert not {ep.step.html for ep in dev} & {ep.step.html for ep in test}
    assert len({ep.task.goal for ep in dev} & {ep.task.goal for ep in test}) <= 2
    assert len({ep.task.goal for ep in test}) >= 95
    assert generated_episode("train", 5).episode_id == "web-train-0005"
    with pytest.raises(ValueError, match="outside split 'test'"):
        generated_episode("test", 100)
    with pytest.raises(ValueError, match="unknown split"):
        generated_episode("holdout", 0)


def test_load_mind2web_sample() -> None:
    tasks = load_mind2web(SAMPLE)
    assert [t.task_id for t in tasks] == ["sample-tock-01", "sample-enterprise-01"]
    tock = tasks[0]
    assert [s.operation for s in tock.steps] == ["SELECT", "TYPE", "CLICK"]
    assert tock.steps[2].previous_actions == (
        "[combobox]  Reservation type -> SELECT: Pickup",
        "[textbox]  Search -> TYPE: Boston",
    )
    enterprise = tasks[1]
    assert enterprise.steps[0].negatives == ("104", "120")  # "999" is not in the page: dropped
    assert enterprise.steps[1].negatives == ("120", "105", "114", "111")  # ordered by the ranker's rank
    assert [ep.episode_id for ep in mind2web_episodes(tasks)][-1] == "sample-enterprise-01-1"


def test_load_mind2web_jsonl(tmp_path: Path) -> None:
    records = json.loads(SAMPLE.read_text())
    path = tmp_path / "sample.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert [t.task_id for t in load_mind2web(path)] == ["sample-tock-01", "sample-enterprise-01"]


def _broken(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    records = json.loads(SAMPLE.read_text())
    edit(records[0])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(records))
    return path


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda r: r.pop("confirmed_task"), "item 0: missing field 'confirmed_task'"),
        (lambda r: r.update(actions="x"), "field 'actions' must be list"),
        (lambda r: r.update(actions=[]), "'actions' is empty"),
        (lambda r: r["action_reprs"].pop(), "2 action_reprs for 3 actions"),
        (lambda r: r["actions"][1].pop("cleaned_html"), "action 1: missing field 'cleaned_html'"),
        (lambda r: r["actions"][0]["operation"].update(op="HOVER"), "unknown operation 'HOVER'"),
        (lambda r: r["actions"][0].update(cleaned_html=""), "action 0: HTML is empty"),
        (lambda r: r["actions"][0].update(cleaned_html="<html></html>"), "no elements"),
        (
            lambda r: r["actions"][0].update(
                cleaned_html='<html><body><p backend_node_id="1">x</p></body></html>'
            ),
            "no candidate element is in the page",
        ),
        (lambda r: r["actions"][0]["pos_candidates"][0].clear(), "has no 'backend_node_id'"),
        (lambda r: r["actions"][0]["neg_candidates"].__setitem__(0, 5), "must be an object"),
    ],
)
def test_load_mind2web_errors(tmp_path: Path, edit, needle: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TaskError, match=needle):
        load_mind2web(_broken(tmp_path, edit))


def test_load_mind2web_file_errors(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="cannot read"):
        load_mind2web(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(TaskError, match="not valid JSON"):
        load_mind2web(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(TaskError, match="no records"):
        load_mind2web(empty)


ROWS = Path(__file__).parent / "data" / "mind2web_rows_sample.jsonl"


def test_load_multimodal_mind2web_rows() -> None:
    tasks = load_mind2web(ROWS)
    assert [t.task_id for t in tasks] == ["hand-books-01", "hand-garden-01"]
    books = tasks[0]
    assert books.step_numbers == (0, 2) and books.goal == "Find the paperback of The Tide Atlas."
    first, third = books.steps
    assert (first.operation, first.value, first.positives) == ("TYPE", "tide atlas", ("5",))
    assert first.previous_actions == () and first.ranks == ()  # no ranks without a scores file
    assert third.previous_actions == (
        "[textbox]  Search books -> TYPE: tide atlas",
        "[button]  Search -> CLICK",
    )
    assert third.negatives == ("31", "32", "33")  # "34" is not in the page: dropped
    assert [ep.episode_id for ep in mind2web_episodes(tasks)] == [
        "hand-books-01-0",
        "hand-books-01-2",
        "hand-garden-01-0",
    ]


def test_rows_as_json_list(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in ROWS.read_text().splitlines()]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows, indent=1))
    assert load_mind2web(path) == load_mind2web(ROWS)


def _rows(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in ROWS.read_text().splitlines()]
    edit(rows)
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda r: r[0].pop("target_action_index"), "line 1: missing field 'target_action_index'"),
        (lambda r: r[0].update(target_action_index="first"), "'target_action_index' must be a step number"),
        (
            lambda r: r[1].update(target_action_index="0"),
            "line 2: annotation 'hand-books-01' has step 0 twice",
        ),
        (lambda r: r[1].update(target_action_index="7"), "target_action_index 7 but only 3 action_reprs"),
        (lambda r: r[0].update(operation="{not json"), "line 1: field 'operation' must be dict, got str"),
        (
            lambda r: r[2]["pos_candidates"].__setitem__(0, "{oops"),
            "line 3 candidate 0: a candidate string is not JSON",
        ),
    ],
)
def test_rows_errors(tmp_path: Path, edit, needle: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TaskError, match=needle) as err:
        load_mind2web(_rows(tmp_path, edit))
    assert str(tmp_path / "bad.jsonl") in str(err.value) and "\n" not in str(err.value)


def test_file_shape_errors_are_one_line_and_name_the_file(tmp_path: Path) -> None:
    record = json.loads(SAMPLE.read_text())[0]
    whole = tmp_path / "object.json"
    whole.write_text(json.dumps(record, indent=2))  # a pretty-printed object, not a list
    with pytest.raises(TaskError, match=r"object\.json: holds one JSON object, not Mind2Web records"):
        load_mind2web(whole)
    one_line = tmp_path / "one.jsonl"
    one_line.write_text(json.dumps(record) + "\n")  # JSON Lines of one record
    assert [t.task_id for t in load_mind2web(one_line)] == ["sample-tock-01"]
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps([record, record]))
    with pytest.raises(TaskError, match=r"twice\.json item 1: annotation 'sample-tock-01' appears twice"):
        load_mind2web(twice)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\x80\x81\xfe[")
    with pytest.raises(TaskError, match=r"binary\.json: not UTF-8 text"):
        load_mind2web(binary)
