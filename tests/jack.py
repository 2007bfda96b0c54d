"""JACK dummy-backend probes shared by the audio and media end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess


def jack_running() -> bool:
    """True if a JACK server answers (never starts one) and its tools are installed."""
    if shutil.which("jack_wait") is None or shutil.which("jack_connect") is None:
        return False
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    out = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True, env=env, check=False)
    return out.stdout.strip() == "running"


def jack_ports() -> dict[str, set[str]]:
    """Every JACK port with its properties (``input``/``output``...), from ``jack_lsp -p``."""
    out = subprocess.run(["jack_lsp", "-p"], capture_output=True, text=True, check=True).stdout
    ports: dict[str, set[str]] = {}
    name = ""
    for line in out.splitlines():
        if line.startswith(("\t", " ")):
            props = line.strip().removeprefix("properties:")
            ports[name] = {p.strip() for p in props.split(",") if p.strip()}
        else:
            name = line.strip()
            ports[name] = set()
    return ports
