"""The leaderboard plot is one a paper could use: ticks on every axis, n per point, the model, a caption."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.leaderboard import Row, caption, figure, plot

pytest.importorskip("matplotlib")


def _row(agent: str, env: str, model: str, flops: float, score: float, n: int = 50, errors: int = 0) -> Row:
    return Row(
        agent=agent,
        env=env,
        model=model,
        episodes=n,
        score=score,
        stderr=0.05,
        score_vs_teacher=None,
        prompt_tokens=100.0,
        generated_tokens=20.0,
        flops_per_episode=flops,
        flops_vs_teacher=None,
        latency_s=1.0,
        latency_vs_teacher=None,
        errors=errors,
        valid_actions=None,
        agreement=None,
        run=agent,
    )


def _visible_labels(axis: object, low: float, high: float) -> list[str]:
    ticks = axis.get_major_ticks()  # type: ignore[attr-defined]
    return [
        t.label1.get_text()
        for t in ticks
        if t.label1.get_visible() and t.label1.get_text() and low <= t.get_loc() <= high
    ]


@pytest.mark.parametrize("spread", [1.3, 1e4], ids=["less-than-a-decade", "four-decades"])
def test_every_axis_has_readable_ticks_and_points_say_n_and_model(spread: float) -> None:
    import matplotlib.pyplot as plt

    rows = [
        _row("teacher", "os", "tiny@abc", 2e9 * spread, 0.4, n=50),
        _row("gcd", "os", "tiny@abc", 2e9, 0.3, n=48, errors=2),
        _row("oracle", "os", "", 0.0, 1.0, n=50),
        _row("teacher", "shop", "tiny@abc", 5e8, 0.27, n=50),
    ]
    fig = figure(rows)
    try:
        fig.canvas.draw()
        axes = fig.get_axes()
        assert [ax.get_title() for ax in axes] == ["os", "shop"]
        for ax in axes:
            x_low, x_high = ax.get_xlim()
            y_low, y_high = ax.get_ylim()
            assert len(_visible_labels(ax.xaxis, x_low, x_high)) >= 2, ax.get_title()
            assert len(_visible_labels(ax.yaxis, y_low, y_high)) >= 5, ax.get_title()
            assert ax.get_xlabel() and ax.get_ylabel()
        labels = [t.get_text() for t in axes[0].texts]
        assert "teacher (n=50)" in labels and "gcd (n=48)" in labels
        assert any("oracle (n=50" in text for text in labels)
        assert "tiny@abc" in fig._suptitle.get_text()
        texts = [t.get_text() for t in fig.texts]
        assert caption(rows) in texts
        assert "2 errored episodes count as score 0" in caption(rows) and "n = 48-50" in caption(rows)
    finally:
        plt.close(fig)


def test_several_models_get_a_legend(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    rows = [_row("teacher", "web", "tiny@abc", 1e9, 0.1), _row("teacher", "web", "http://h/v1", 5e10, 0.6)]
    fig = figure(rows)
    try:
        (legend,) = fig.legends
        assert sorted(t.get_text() for t in legend.get_texts()) == ["http://h/v1", "tiny@abc"]
    finally:
        plt.close(fig)
    plot(rows, tmp_path / "board.png")
    assert (tmp_path / "board.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
