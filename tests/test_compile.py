"""`hpdsl compile --target python` on the shipped package: files, determinism, lint, robustness."""

from __future__ import annotations

import array
import ast
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from librt.strings import BytesWriter
from pytarget import assert_mypy_strict_and_ruff_pass, import_module

from hpdsl import cli
from hpdsl.codegen.compiler import compile_paths


@pytest.fixture(scope="module")
def shipped_text(repo_root: Path) -> str:
    result = compile_paths([repo_root / "rules"], "python")
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.files["rules.py"]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory, shipped_text: str) -> ModuleType:
    return import_module(tmp_path_factory.mktemp("shipped"), shipped_text, "shipped_rules")


def test_compile_writes_the_module(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli.main(["compile", str(repo_root / "rules"), "--target", "python", "-o", str(out)]) == 0
    assert (out / "rules.py").read_text(encoding="utf-8").startswith('"""Heat-pump control rules `rules`')
    assert "wrote 1 file(s)" in capsys.readouterr().out
    # Compiling again overwrites its own output.
    assert cli.main(["compile", str(repo_root / "rules"), "--target", "python", "-o", str(out)]) == 0


def test_compile_never_overwrites_a_file_it_did_not_write(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "rules.py"
    mine.write_text("# my own controller code\n", encoding="utf-8")
    args = ["compile", str(repo_root / "rules"), "--target", "python", "-o", str(out)]
    assert cli.main(args) == 2
    assert "will not overwrite" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "# my own controller code\n"
    assert cli.main([*args, "--force"]) == 0
    assert mine.read_text(encoding="utf-8").startswith('"""Heat-pump control rules')


def test_compile_reports_rule_errors_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "bad.rules"
    rules.write_text(
        "program P\n    output x: C\n    rule r\n        x = 5 kW\n    end\nend\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    assert cli.main(["compile", str(rules), "--target", "python", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "bad.rules:4:" in err and "[unit-mismatch]" in err
    assert not out.exists()


def test_compile_refuses_a_bad_module_name(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "compile",
        str(repo_root / "rules"),
        "--target",
        "python",
        "-o",
        str(tmp_path),
        "--name",
        "my-rules",
    ]
    assert cli.main(args) == 2
    assert "not a valid module name" in capsys.readouterr().err


def test_output_is_deterministic_across_hash_seeds_and_folders(tmp_path: Path, repo_root: Path) -> None:
    outputs = []
    for seed, cwd in (("1", repo_root), ("2", tmp_path), ("random", repo_root.parent)):
        out = tmp_path / f"out_{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "hpdsl",
                "compile",
                str(repo_root / "rules"),
                "--target",
                "python",
                "-o",
                str(out),
            ],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        outputs.append((out / "rules.py").read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert str(repo_root).encode() not in outputs[0]  # no machine-specific paths


def test_generated_module_imports_only_the_standard_library(shipped_text: str) -> None:
    """And librt's byte writer for `Package.replay`, where it is installed: the module imports
    it inside `contextlib.suppress(ImportError)`."""
    tree = ast.parse(shipped_text)
    optional = [
        node
        for node in tree.body
        if isinstance(node, ast.With)
        and ast.unparse(node.items[0].context_expr) == "contextlib.suppress(ImportError)"
    ]
    assert [ast.unparse(node.body[0]) for node in optional] == [
        "from librt.strings import BytesWriter, read_f64_le, write_f64_le, write_i64_le"
    ]
    tree.body = [node for node in tree.body if node not in optional]
    shipped_text = ast.unparse(tree)
    imported = set()
    for node in ast.walk(ast.parse(shipped_text)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    assert "hpdsl" not in imported


def test_comments_trace_back_to_rules_and_requirements(shipped_text: str) -> None:
    assert "# machine defrost_sequence: rules/defrost.rules:" in shipped_text
    assert "# hysteresis system_mode: rules/changeover.rules:" in shipped_text
    assert "(C1, C2, C3)" in shipped_text


@pytest.mark.slow
def test_generated_module_passes_mypy_strict_and_ruff(
    tmp_path: Path, repo_root: Path, shipped_text: str
) -> None:
    path = tmp_path / "rules.py"
    path.write_text(shipped_text, encoding="utf-8")
    assert_mypy_strict_and_ruff_pass(path, repo_root)


def _checked_module(
    text: str, name: str, tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """Rules text compiled to the Python target as module `name`, passed through mypy --strict and
    ruff, and imported."""
    monkeypatch.chdir(tmp_path)
    Path(f"{name}.rules").write_text(text, encoding="utf-8")
    result = compile_paths([Path(f"{name}.rules")], "python", name)
    assert result.ok, [d.message for d in result.diagnostics]
    path = tmp_path / f"{name}.py"
    path.write_text(next(iter(result.files.values())), encoding="utf-8")
    assert_mypy_strict_and_ruff_pass(path, repo_root)
    return import_module(tmp_path, path.read_text(encoding="utf-8"), f"{name}_imported")


LONG = "secondary_loop_supply_water_temp_se"  # 35 characters, 40 (the most) with a suffix

LONG_NAMES = f"""
program SecondaryLoopSupervision "Long names everywhere"
    input {LONG}: C range 0C .. 90C "A numeric input with a range and no fallback"
    output {LONG}_copy: C = 20C "Republished"
    rule republish_the_secondary_loop_reading_t
        {LONG}_copy = {LONG}
    end
end

program SecondaryLoopReader "Reads it"
    input {LONG}_read: C from SecondaryLoopSupervision.{LONG}_copy "Wired"
    output {LONG}_high: bool = false "High"
    rule compare_the_secondary_loop_readings_t
        {LONG}_high = {LONG}_read > 60C
    end
end
"""


@pytest.mark.slow
def test_long_names_make_lines_that_still_fit_and_type_check(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every line the generator writes for a name (input checks, wires, the package's scan) is wrapped;
    # a longer name is refused by the checker (`name-too-long`, tests/data/diagnostics).
    module = _checked_module(LONG_NAMES, "long_rules", tmp_path, repo_root, monkeypatch)
    package = module.Package()
    reader = package.secondary_loop_reader
    setattr(package.secondary_loop_supervision, LONG, 70.0)
    package.scan(1.0)
    assert getattr(reader, f"{LONG}_high") is True


INPUTS_AND_ALARMS_ONLY = """
program Guard "Reads a temperature and raises an alarm: nothing of it is recorded but its input"
    input temp: C range -20C .. 90C fallback 90C "Loop temperature."
    alarm too_hot
        "Too hot."
        when temp > 70C
        severity high
    end
end
"""


@pytest.mark.slow
def test_a_program_with_only_inputs_and_alarms_replays_and_type_checks(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `Package.replay` records no value of such a program (its input comes from the rows, its
    # alarm from the changes): the module must not bind a program it does not read.
    module = _checked_module(INPUTS_AND_ALARMS_ONLY, "guard_rules", tmp_path, repo_root, monkeypatch)
    package = module.Package()
    assert module.Package.RECORDED == () and module.Package.FIELD_INPUTS == ("Guard.temp",)
    changes: list[tuple[int, list[Any]]] = []
    rows = array.array("d", [20.0, 75.0, 75.0])
    out = BytesWriter()
    assert package.replay(rows.tobytes(), [1, 1, 1], [0.0, 60.0, 60.0], out, changes, 0) == 3
    assert out.getvalue() == b""  # nothing recorded
    assert [(scan, [(c.alarm, c.raised) for c in found]) for scan, found in changes] == [
        (1, [("too_hot", True)])
    ]


@pytest.mark.slow
def test_wired_inputs_read_their_source_in_a_package_and_the_value_set_alone(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wired input is a property: inside a Package it reads what Package copied from the source
    # (a number, a flag, a member, a count), and a value set on it there changes nothing; alone,
    # the program reads and checks the value set, as any input.
    text = (Path(__file__).parent / "data" / "native" / "pump.rules").read_text(encoding="utf-8")
    module = _checked_module(text, "wired_rules", tmp_path, repo_root, monkeypatch)
    package = module.Package()
    loop, watch = package.loop, package.watch
    assert (watch.heat, watch.pump, watch.phase, watch.starts) == (0.0, False, module.LoopMode.Idle, 0)
    loop.temp, loop.call, loop.site_mode = 30.0, True, module.LoopMode.Boost
    watch.heat = 99.0  # ignored inside the package: the wire gives the value
    for _ in range(4):
        package.scan(60.0)
    assert (watch.heat, watch.pump, watch.phase, watch.starts) == (10.0, True, module.LoopMode.Heat, 1)
    assert watch.heat_seen == 10.0 and not watch.active_alarms()
    alone = module.Watch()
    alone.heat, alone.pump, alone.phase, alone.starts = 5.0, True, module.LoopMode.Boost, 4
    alone.scan(1.0)
    assert (alone.heat_seen, alone.boosting, alone.many_starts) == (5.0, True, True)
    alone.heat = None  # a faulted reading: the last good one is held, and the fault raised
    alone.scan(1.0)
    assert alone.heat is None and alone.heat_seen == 5.0
    assert alone.active_alarms() == ["heat_sensor_fault"]


# ------------------------------------------------------------------------------ random traces


def _field_inputs(package: Any) -> list[tuple[Any, Any]]:
    """(program, input point) for every input the plant sets: those no wire feeds."""
    wired = package_wired(package)
    found = []
    for program in package.programs():
        for point in program.POINTS:
            if point.kind == "input" and (program.NAME, point.name) not in wired:
                found.append((program, point))
    return found


def package_wired(package: Any) -> set[tuple[str, str]]:
    return {(program, input_) for program, input_, _, _ in package.WIRES}


def _reading(point: Any, draw: Any) -> Any:
    """A value for an input: mostly plausible, sometimes a fault."""
    fault = draw(st.sampled_from([None, math.nan, math.inf, -1e9, 1e9, "bad"]))
    if draw(st.integers(0, 9)) == 0:
        return fault
    if point.type == "bool":
        return draw(st.booleans())
    if point.type in ("real", "int"):
        low = point.low if point.low is not None else -1e3
        high = point.high if point.high is not None else 1e3
        if point.type == "int":
            return draw(st.integers(int(low), int(high)))
        return draw(st.floats(low, high, allow_nan=False))
    return None  # an enumeration input from the plant: left to its fallback


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_traces_never_raise_and_keep_outputs_in_range(shipped: ModuleType, data: Any) -> None:
    package = shipped.Package(start=shipped.DEFAULT_START)
    inputs = _field_inputs(package)
    for _ in range(data.draw(st.integers(1, 40))):
        for program, point in inputs:
            setattr(program, point.attribute, _reading(point, data.draw))
        package.scan(data.draw(st.sampled_from([0.0, 0.5, 1.0, 60.0, 900.0, 86400.0, -1.0, math.nan])))
        for program in package.programs():
            assert_points_valid(program, _enum_classes(shipped))


def assert_points_valid(program: Any, enums: dict[str, Any]) -> None:
    """Every value a program shows is finite, of its enumeration, and within its declared range."""
    for point in program.POINTS:
        if point.kind == "input":
            continue
        value = getattr(program, point.attribute)
        where = (program.NAME, point.name, value)
        if isinstance(value, float):
            assert math.isfinite(value), where
        if point.type in enums:
            assert isinstance(value, enums[point.type]), where
        if point.low is not None and point.high is not None and point.kind == "output":
            assert point.low <= value <= point.high, where


def _enum_classes(module: ModuleType) -> dict[str, Any]:
    import enum

    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, enum.Enum)
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_program_alone_survives_random_inputs(shipped: ModuleType, data: Any) -> None:
    """Each program on its own, every input random (wired ones too), faults included."""
    enums = _enum_classes(shipped)
    cls = data.draw(st.sampled_from(shipped.Package.PROGRAMS))
    program = cls()
    inputs = [point for point in cls.POINTS if point.kind == "input"]
    for _ in range(data.draw(st.integers(1, 30))):
        for point in inputs:
            value = _reading(point, data.draw)
            if point.type in enums and data.draw(st.integers(0, 9)) != 0:
                value = data.draw(st.sampled_from(list(enums[point.type])))
            setattr(program, point.attribute, value)
        program.scan(data.draw(st.sampled_from([0.0, 1.0, 60.0, 3600.0, math.inf])))
        assert_points_valid(program, enums)


def test_source_comments_can_be_left_out_for_golden_files(repo_root: Path, shipped_text: str) -> None:
    plain = compile_paths([repo_root / "rules"], "python", source_comments=False).files["rules.py"]
    assert "rules/defrost.rules" in shipped_text
    assert ".rules:" not in plain and "# line " not in plain
    assert "    rules/defrost.rules\n" in plain  # the header still names the sources


GOLDEN = Path(__file__).resolve().parent / "data" / "golden"


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_golden_python(case: str) -> None:
    """A small representative program compiles to exactly the reviewed file.

    After a deliberate change to the generator, regenerate with
    `hpdsl compile tests/data/golden/CASE --target python --no-source-comments -o tests/data/golden/CASE`
    and review the diff.
    """
    folder = GOLDEN / case
    result = compile_paths([folder], "python", case, source_comments=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.files[f"{case}.py"] == (folder / f"{case}.py").read_text(encoding="utf-8")


EMPTY_THEN = ["if x > 5 then", "else", "    y = 1", "end"]
EMPTY_THEN_BEFORE_ELIF = ["if x > 5 then", "else if x > 2 then", "    y = 2", "end"]
EMPTY_ELIF = ["if x > 5 then", "    y = 3", "else if x > 2 then", "else", "    y = 1", "end"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (EMPTY_THEN, [1.0, 0.0]),
        (EMPTY_THEN_BEFORE_ELIF, [2.0, 0.0]),
        (EMPTY_ELIF, [0.0, 3.0]),
        (["if x > 5 then", "end"], [0.0, 0.0]),
    ],
    ids=["empty-then", "empty-then-before-elif", "empty-elif", "all-empty"],
)
def test_an_empty_branch_compiles_on_every_target_and_keeps_its_meaning(
    tmp_path: Path, body: list[str], expected: list[float]
) -> None:
    """An empty branch stops the later ones; no target prints an empty branch (found by tests/fuzz.py).
    `expected`: the output with the input at 3, then at 7."""
    rule = "\n".join(f"        {line}" for line in body)
    text = (
        'program P "p"\n    input x: real fallback 0 "x"\n    output y: real = 0 "y"\n'
        f"    rule r\n{rule}\n    end\nend\n"
    )
    path = tmp_path / "empty.rules"
    path.write_text(text, encoding="utf-8")
    for target, dialect in (("st", "iec"), ("st", "codesys"), ("st", "siemens"), ("plcopen", None)):
        assert compile_paths([path], target, dialect=dialect).ok
    module = import_module(
        tmp_path, compile_paths([path], "python", "empty").files["empty.py"], "empty_branch"
    )
    seen = []
    for reading in (3.0, 7.0):
        program = module.P()
        program.x = reading
        program.scan(1.0)
        seen.append(program.y)
    assert seen == expected
