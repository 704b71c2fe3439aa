"""`hrgraph serve` end to end: a real process, one worker or several, settings from flags."""

from __future__ import annotations

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
from support import free_port


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
