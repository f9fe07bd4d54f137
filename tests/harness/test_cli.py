"""The ``promptless`` entry point dispatches to each command's own ``main``."""

from __future__ import annotations

from harness.cli import COMMANDS, main


def test_help_lists_every_command(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command_is_a_usage_error(capsys) -> None:
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err


def test_run_is_harness_run(capsys) -> None:
    assert main(["run", "--list"]) == 0
    assert "teacher" in capsys.readouterr().out
