"""Issue 10 (defect 9): ``ptt diagram`` after a plain ``pip install ptt-fsm`` (no pydot),
and drawing a user's subclass of ConnectionMachine. Each case runs the real command in a
subprocess; pydot is hidden by a ``sitecustomize`` on PYTHONPATH where the case needs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HIDE_PYDOT = '''
import sys


class _HidePydot:
    """What a plain `pip install ptt-fsm` looks like: pydot is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "pydot" or name.startswith("pydot."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _HidePydot())
'''

USER_MACHINE = '''
from statemachine import Event

from fsm import ConnectionMachine


class AuditedMachine(ConnectionMachine):
    """A user's machine: one extra intent with its own action."""

    audit_requested = Event(
        ConnectionMachine.connected.to(None, on="write_audit"), id="audit_requested"
    )

    def write_audit(self) -> None:
        pass
'''


def ptt(cwd: Path, *args: str, hide_pydot: bool = False) -> subprocess.CompletedProcess[str]:
    paths = [str(cwd)]
    if hide_pydot:
        shim = cwd / "shim"
        shim.mkdir(exist_ok=True)
        (shim / "sitecustomize.py").write_text(HIDE_PYDOT)
        paths.insert(0, str(shim))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "adapters.app.cli", "diagram", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_shim_really_hides_pydot(tmp_path: Path) -> None:
    (tmp_path / "shim").mkdir()
    (tmp_path / "shim" / "sitecustomize.py").write_text(HIDE_PYDOT)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'shim'}{os.pathsep}{ROOT}"}
    probe = subprocess.run(
        [sys.executable, "-c", "import pydot"], env=env, capture_output=True, text=True, check=False
    )
    assert probe.returncode != 0
    assert "No module named 'pydot'" in probe.stderr


def test_without_pydot_svg_says_what_to_install_and_no_traceback(tmp_path: Path) -> None:
    done = ptt(tmp_path, "--out", "out", hide_pydot=True)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "pip install 'ptt-fsm[diagrams]'" in done.stderr
    assert "--no-svg" in done.stderr
    # the text diagrams need nothing more: they were written anyway
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "connection_machine.mmd",
        "session_plan.mmd",
        "transitions.md",
    ]


def test_without_pydot_mermaid_and_markdown_work(tmp_path: Path) -> None:
    done = ptt(tmp_path, "--out", "out", "--no-svg", hide_pydot=True)
    assert done.returncode == 0, done.stderr
    assert "stateDiagram-v2" in (tmp_path / "out" / "connection_machine.mmd").read_text()
    assert "| State | Event |" in (tmp_path / "out" / "transitions.md").read_text()


def test_draws_a_users_subclass_into_out(tmp_path: Path) -> None:
    (tmp_path / "mymachine.py").write_text(USER_MACHINE)
    args = ["--machine", "mymachine:AuditedMachine", "--out", "drawn"]
    if shutil.which("dot") is None:
        args.append("--no-svg")
    done = ptt(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "drawn" / "transitions.md").read_text()
    assert "audit_requested" in table
    assert "write_audit" in table
    assert "stateDiagram-v2" in (tmp_path / "drawn" / "connection_machine.mmd").read_text()
    if shutil.which("dot") is not None:
        assert "<svg" in (tmp_path / "drawn" / "connection_machine.svg").read_text()
    assert not (tmp_path / "README.md").exists()


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("mymachine:Nope", "has no 'Nope'"),
        ("no_such_module:X", "cannot import"),
        ("json:dumps", "not a subclass of fsm.ConnectionMachine"),
        ("justaname", "module:Class"),
    ],
)
def test_bad_machine_is_a_clear_message(tmp_path: Path, spec: str, says: str) -> None:
    (tmp_path / "mymachine.py").write_text(USER_MACHINE)
    done = ptt(tmp_path, "--machine", spec, "--out", "x", "--no-svg")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert says in done.stderr
