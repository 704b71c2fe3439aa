"""The README's command synopsis is true: every command it shows exists, takes every flag shown
with it, and no command of the CLI is missing from it."""

from __future__ import annotations

import re
from pathlib import Path

import click

from hrgraph.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def synopsis() -> dict[str, set[str]]:
    """Command -> the flags the README's synopsis shows with it."""
    text = README.read_text()
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    found: dict[str, set[str]] = {}
    command = ""
    for line in block.splitlines():
        start = re.match(r"hrgraph (\w+)", line)
        if start:
            command = start.group(1)
            found[command] = set()
        if command:
            found[command] |= set(re.findall(r"--[a-z][a-z-]*", line.split("#")[0]))
    return found


def test_the_synopsis_shows_every_command() -> None:
    assert isinstance(cli, click.Group)
    assert set(synopsis()) == set(cli.commands)


def test_every_flag_shown_is_a_flag_of_its_command() -> None:
    assert isinstance(cli, click.Group)
    shown = synopsis()
    assert sum(map(len, shown.values())) > 15  # the parser read the flags
    for command, flags in shown.items():
        accepted = {name for p in cli.commands[command].params for name in p.opts}
        assert flags <= accepted, f"hrgraph {command}: {sorted(flags - accepted)} do not exist"


def test_the_module_map_names_every_module() -> None:
    text = README.read_text().split("## Command line", 1)[0]
    package = README.parent / "src" / "hrgraph"
    modules = [p for p in package.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(modules) > 40
    missing = [str(p.relative_to(package)) for p in modules if f"`{p.name}`" not in text]
    assert missing == []
