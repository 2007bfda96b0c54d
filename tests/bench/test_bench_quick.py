"""`ptt bench --quick` runs end to end and produces every figure (values are not judged)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PTT = [sys.executable, "-m", "adapters.app.cli"]

#: Every figure the quick run must produce, by name prefix (the herd's per scenario).
EXPECTED = [
    "crash 2 s: all back after the path returns",
    "crash 2 s: handshakes per 100 ms, peak",
    "crash 2 s: handshakes per 100 ms, mean",
    "crash 2 s: cascade: >1 attempt after return",
    "crash 2 s: client CPU (fault to all back)",
    "crash 2 s: stuck",
    "restart 1 s: all back after the path returns",
    "restart 1 s: stuck",
    "RSS per connected client",
    "silent blackhole: time to notice",
    "recovery after a reset minus backoff, median",
    "engine cost per transition, median",
    "memory per machine (tracemalloc",
]
if os.geteuid() == 0:  # the client's own network needs a private namespace
    EXPECTED.append("client network lost 2 s (backoff cap 6 s): link up -> connected")


@pytest.mark.e2e
def test_quick_bench_prints_the_table_and_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [*PTT, "bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["machine"]["cores"]
    assert report["machine"]["python"]
    assert report["machine"]["packages"]["python-statemachine"] != "absent"
    figures = {f["name"]: f for f in report["figures"]}
    for prefix in EXPECTED:
        found = [f for name, f in figures.items() if name.startswith(prefix)]
        assert found, f"missing figure {prefix!r}"
        for figure in found:
            assert all(v is not None for v in figure["cells"].values()), figure
            assert figure["name"] in done.stdout  # the table shows what the JSON holds
    herd = figures["crash 2 s: all back after the path returns"]["cells"]
    assert set(herd) == {"default", "fleet", "websockets"}
    assert figures["crash 2 s: stuck"]["cells"] == {"default": 0, "fleet": 0, "websockets": 0}
