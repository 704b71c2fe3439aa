"""`hrgraph serve` end to end: a real process, one worker or several, settings from flags."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from hrgraph.config import Settings
from support import free_port, wait_until


@contextmanager
def serving(*flags: str) -> Iterator[tuple[str, list[str]]]:
    port = free_port()
    command = [sys.executable, "-m", "hrgraph", "serve", "--port", str(port), *flags]
    log: list[str] = []
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            for line in process.stderr:  # readiness: uvicorn says so, no polling
                log.append(line)
                if "Application startup complete" in line:
                    break
            assert process.poll() is None, "".join(log)
            yield f"http://127.0.0.1:{port}", log
        finally:
            process.terminate()
            process.wait(60)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve(served_settings: Settings, workers: str) -> None:
    releases = str(served_settings.releases)
    flags = ("--sources", str(ROOT), "--releases", releases, "--workers", workers)
    with serving(*flags) as (url, log):
        response = httpx.get(f"{url}/sparql", params={"query": "ASK { ?s a hr:City }"})
        assert response.json()["boolean"] is True
        assert httpx.get(f"{url}/id/city/whitehorse.ttl").status_code == 200
    assert any("is up to date" in line for line in log)


def test_serve_builds_when_there_is_no_release(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    with serving("--sources", str(ROOT), "--releases", str(releases)) as (url, _):
        assert httpx.get(f"{url}/downloads/", params={"format": "json"}).json()["current"]
    assert (releases / "current").is_symlink()


def wait_until_accepting(url: str, timeout: float = 30) -> None:
    """uvicorn logs "Application startup complete" just before it listens."""
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert time.monotonic() < deadline, f"{url} does not accept connections"
        time.sleep(0.05)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_applies_the_connection_limits(
    served_settings: Settings, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection limits reach uvicorn, in this process and in spawned server processes."""
    monkeypatch.setenv("HRGRAPH_MAX_URL_BYTES", "2000")
    releases = str(served_settings.releases)
    flags = ("--sources", str(ROOT), "--releases", releases, "--workers", workers)
    with serving(*flags) as (url, _):
        wait_until_accepting(url)
        assert httpx.get(f"{url}/", params={"pad": "a" * 1000}).status_code == 200
        assert httpx.get(f"{url}/", params={"pad": "a" * 3000}).status_code == 414


def test_ctrl_c_while_serve_builds_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """The release is built in a process of its own (its memory leaves with it); Ctrl-C, which
    the terminal sends to the whole process group, still ends the command as one of its own
    errors: one line, exit status 130, no build left behind and no process left running."""
    releases = tmp_path / "releases"
    command = [sys.executable, "-m", "hrgraph", "serve", "--port", str(free_port())]
    command += ["--sources", str(ROOT), "--releases", str(releases)]
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        assert process.stderr is not None
        log = [process.stderr.readline()]
        while "validating" not in log[-1]:  # the build is under way, in the child
            assert log[-1], "".join(log)
            log.append(process.stderr.readline())
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(60) == 130, "".join(log)
        rest = process.stderr.read().splitlines()
        assert [line for line in rest if line.startswith("error:")] == ["error: interrupted"]
        assert "Traceback" not in "".join(rest)
        assert not list(releases.glob(".build-*")) and not (releases / "current").exists()
    wait_until(lambda: not running_in_group(process.pid), 30, what="the build to stop")


def running_in_group(group: int) -> list[int]:
    """The processes of a process group that still run (a zombie has stopped)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue
        if int(pgrp) == group and state != "Z":
            found.append(int(stat.parent.name))
    return found
