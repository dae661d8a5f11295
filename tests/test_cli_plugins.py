"""Commands other installed packages add (entry point group ``archive_ingest.commands``): a
broken one is reported and skipped, the others are still added."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
import typer
from typer.testing import CliRunner

from archive_ingest import cli


def _hello(app: typer.Typer) -> None:
    @app.command()
    def hello() -> None:
        print("hello")


def test_a_broken_add_on_is_reported_and_the_others_still_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    found = [
        EntryPoint("broken", "no_such_module_for_archive_ingest:register", cli.COMMANDS_GROUP),
        EntryPoint("hello", f"{__name__}:_hello", cli.COMMANDS_GROUP),
    ]
    monkeypatch.setattr(cli, "entry_points", lambda group: found if group else [])
    app = typer.Typer()

    @app.command()
    def other() -> None:  # typer needs two commands to keep subcommand names
        pass

    cli.add_installed_commands(app)
    assert "'broken' was not added" in capsys.readouterr().err
    result = CliRunner().invoke(app, ["hello"])
    assert result.exit_code == 0 and "hello" in result.stdout
