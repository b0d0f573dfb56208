"""Long commands show their phases on a terminal, and write nothing of the kind anywhere else.

Each command runs in a child process whose stderr is a pseudo-terminal (what a person at a
terminal has), then with stderr a pipe (a CI log, a redirect), then on the terminal with
`CI=true`: the phases appear only in the first case, and stdout is the same in all three.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parent.parent / "rules"


def run(arguments: list[str], *, terminal: bool, ci: bool, cwd: Path) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `python -m hpdsl ARGUMENTS`."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HPDSL_NO_PROGRESS")}
    env["COLUMNS"] = "120"
    if ci:
        env["CI"] = "true"
    command = [sys.executable, "-m", "hpdsl", *arguments]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env, cwd=cwd)
    os.close(follower)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            seen.extend(chunk)
        elif process.poll() is not None:
            break
    out = process.stdout.read().decode() if process.stdout else ""
    process.wait(timeout=300)
    os.close(leader)
    return process.returncode, out, seen.decode(errors="replace")


@pytest.mark.heavy
def test_simulate_and_verify_show_their_phases_on_a_terminal_only(tmp_path: Path) -> None:
    simulate = ["simulate", str(RULES), "--days", "1", "--trend-format", "csv", "--no-plots", "--force"]
    shown: dict[tuple[bool, bool], tuple[int, str, str]] = {}
    for terminal, ci in ((True, False), (False, False), (True, True)):
        out = tmp_path / f"run-{terminal}-{ci}"
        shown[(terminal, ci)] = run([*simulate, "-o", str(out)], terminal=terminal, ci=ci, cwd=tmp_path)
    code, out, err = shown[(True, False)]
    assert code == 0, err
    for phase in (
        "reading the weather",
        "compiling the rules",
        "writing trend.csv",
        "computing the KPIs and the scorecard",
    ):
        assert f"simulate: {phase} (" in err, err
    # The header comes first, before the run.
    assert out.startswith("Heat source: Air\nWeather: ")
    for quiet in ((False, False), (True, True)):
        code, plain, err = shown[quiet]
        assert code == 0 and err == "", err
        assert plain.split("simulated ")[0] == out.split("simulated ")[0]

    trend = tmp_path / "run-True-False" / "trend.csv"
    verify = ["verify", str(RULES), "--trend", str(trend)]
    code, out, err = run(verify, terminal=True, ci=False, cwd=tmp_path)
    assert code == 0, err
    for phase in ("reading the time stamps and field inputs", "replaying and comparing"):
        assert f"verify: {phase} (" in err, err
    code, plain, err = run(verify, terminal=False, ci=False, cwd=tmp_path)
    assert code == 0 and err == ""
    assert plain.rsplit(" in ", 1)[0] == out.rsplit(" in ", 1)[0]


def test_test_shows_its_phases_on_a_terminal_only(tmp_path: Path) -> None:
    code, out, err = run(["test", str(RULES), "-k", "dead_band"], terminal=True, ci=False, cwd=tmp_path)
    assert code == 0, out + err
    assert "test: compiling the rules (" in err and "test: running the scenarios (" in err
    code, plain, err = run(["test", str(RULES), "-k", "dead_band"], terminal=False, ci=False, cwd=tmp_path)
    assert code == 0 and err == ""
    assert plain.rsplit(" in ", 1)[0] == out.rsplit(" in ", 1)[0]
