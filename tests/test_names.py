"""Every name the checker accepts compiles on every target: Python's reserved words, builtins,
dunders and leading underscores, names that differ only in case or `_`, names as long as the
language allows, and a package without a program. Python is imported, run and type-checked;
Structured Text is compiled by MATIEC when it is installed (tests/test_matiec.py says how).
"""

from __future__ import annotations

import concurrent.futures
import os
import textwrap
from pathlib import Path

import pytest
from pytarget import assert_mypy_strict_and_ruff_pass, import_module

from hpdsl.codegen.compiler import compile_paths
from hpdsl.language.builder import MAX_NAME_LENGTH
from hpdsl.tools.testing import matiec

PLANT = """
program {name} "p"
    input {input}: C range -40C .. 60C fallback 0C "t"
    output {output}: bool = false "o"

    rule decide
        {output} = {input} > 5C
    end
end
"""


def plant(name: str = "Plant", input_: str = "t", output: str = "o") -> str:
    return PLANT.format(name=name, input=input_, output=output)


PARAMETERS = """
program Plant "Parameters named like the constructor's own arguments"
    input t: C range -40C .. 60C fallback 0C "t"
    parameter start: C = 5C range 0C .. 10C "s"
    parameter self: C = 6C range 0C .. 10C "s"
    output o: bool = false "o"

    rule decide
        o = t > start and t > self
    end
end
"""


def _longest(tag: str) -> str:
    return (tag + "_" + "long_name_" * 5)[:MAX_NAME_LENGTH]


def _every_role_at_the_longest() -> str:
    """A name of the longest length in every role a name has."""
    e, m, p = _longest("Enum"), _longest("member"), _longest("Prog")
    i, o, pa, v, al, ma, s1, s2, t, col, cu, ev, f, to, co = (
        _longest(tag)
        for tag in [
            "input",
            "output",
            "param",
            "var",
            "alarm",
            "machine",
            "state_a",
            "state_b",
            "table",
            "column",
            "curve",
            "event",
            "field",
            "total",
            "count",
        ]
    )
    return f"""
enum {e} ({m}, Other) "e"

program {p} "p"
    input {i}: C range -40C .. 60C fallback 0C "i"
    parameter {pa}: C = 5C range 0C .. 10C "p"
    output {o}: bool = false "o"
    output mode_out: {e} = {m} "m"
    var {v}: bool = false "v"

    table {t}(k: C range -40C .. 60C) "t"
        | k          | {col} |
        | -40C .. 0C | 1     |
        | > 0C       | 2     |
    end

    curve {cu}(k: C) -> kW increasing "c"
        | -10C | 1 kW |
        | 10C  | 2 kW |
    end

    event {ev} "e"
        {f}: C "f"
    end

    totalizer {to}: h of {o} per day "t"
    counter {co} of {o} per day "c"

    hysteresis {v} on {i} "h"
        below {pa} -> false
        above {pa} + 2 K -> true
    end

    machine {ma} "m"
        initial state {s1}
            when {v} and {t}({i}).{col} > 1 and {cu}({i}) > 1.5 kW -> {s2}
        end
        state {s2}
            entry
                log {ev}({f}: {i})
            end
            after 5 min -> {s1}
        end
    end

    alarm {al} "a"
        when {i} > 50C
        severity low
    end

    rule decide
        {o} = {v} and {to} < 5 h and {co} < 3
        if {v} then
            mode_out = {m}
        else
            mode_out = Other
        end
    end
end
"""


CASES = {
    "lower-case-program": plant("plant"),
    "program-None": plant("None"),
    "program-class": plant("class"),
    "program-If": plant("If"),
    "program-Package": plant("Package"),
    "program-Point": plant("Point"),
    "program-Program": plant("Program"),
    "leading-underscore-input": plant(input_="_t"),
    "dunder-input": plant(input_="__init__"),
    "builtin-names": plant(input_="len", output="print"),
    "parameters-start-and-self": PARAMETERS,
    "programs-differing-by-underscore": plant("Ab_c") + plant("AbC"),
    "programs-differing-by-case": plant("Plant") + plant("PLANT"),
    "inputs-differing-by-case": plant(input_="t")
    .replace(
        '    output o: bool = false "o"',
        '    input T: C range -40C .. 60C fallback 0C "T"\n    output o: bool = false "o"',
    )
    .replace("o = t > 5C", "o = t > T"),
    "no-program": 'enum Mode (Heating, Cooling) "m"\nconst design_temp: C = -10C "d"\n',
    "enumerations-named-like-the-module-classes": (
        'enum Point (Near, Far) "p"\nenum Package (Small, Large) "k"\n'
        + plant(output="where")
        .replace('output where: bool = false "o"', 'output where: Point = Near "o"')
        .replace("where = t > 5C", "where = Far")
    ),
    "longest-names-in-every-role": _every_role_at_the_longest(),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each case's folder, with its rules file and the generated Python module."""
    root = tmp_path_factory.mktemp("names")
    folders = {}
    for case, text in CASES.items():
        folder = root / case.replace("-", "_")
        folder.mkdir()
        (folder / "case.rules").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        folders[case] = folder
    return folders


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_checker_accepts_it_and_python_runs_it(compiled: dict[str, Path], case: str) -> None:
    folder = compiled[case]
    result = compile_paths([folder / "case.rules"], "python", f"names_{folder.name}")
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    text = result.files[f"names_{folder.name}.py"]
    (folder / f"names_{folder.name}.py").write_text(text, encoding="utf-8")
    module = import_module(folder, text, f"names_{folder.name}")
    package = module.Package()
    for cls in module.Package.PROGRAMS:
        assert getattr(package, cls.INSTANCE).NAME == cls.NAME
        for point in cls.POINTS:
            assert hasattr(getattr(package, cls.INSTANCE), point.attribute), (cls.NAME, point.name)
    for _ in range(3):
        package.scan(60.0)


def test_every_case_passes_mypy_strict_and_ruff(compiled: dict[str, Path], repo_root: Path) -> None:
    """One run of each tool over every case's module (the cases above wrote them)."""
    for case, folder in compiled.items():
        if not any(folder.glob("names_*.py")):
            text = compile_paths([folder / "case.rules"], "python", f"names_{folder.name}").files
            (folder / f"names_{folder.name}.py").write_text(next(iter(text.values())), encoding="utf-8")
        assert any(folder.glob("names_*.py")), case
    assert_mypy_strict_and_ruff_pass(next(iter(compiled.values())).parent, repo_root)


def test_the_python_names_are_the_same_in_every_build(compiled: dict[str, Path]) -> None:
    rules = compiled["programs-differing-by-underscore"] / "case.rules"
    first = compile_paths([rules], "python", "same").files["same.py"]
    assert first == compile_paths([rules], "python", "same").files["same.py"]
    assert 'INSTANCE: ClassVar[str] = "ab_c"' in first and 'INSTANCE: ClassVar[str] = "ab_c_"' in first


def test_a_longer_name_is_refused_by_the_checker(tmp_path: Path) -> None:
    path = tmp_path / "long.rules"
    path.write_text(textwrap.dedent(plant(input_="t" * (MAX_NAME_LENGTH + 1))).lstrip(), encoding="utf-8")
    result = compile_paths([path], "python")
    assert [d.code for d in result.diagnostics] == ["name-too-long"]


@pytest.mark.parametrize("dialect", ["iec", "codesys", "siemens"])
def test_structured_text_keeps_every_identifier_within_the_dialects_limit(
    compiled: dict[str, Path], dialect: str
) -> None:
    import re

    limits = {"iec": 31, "codesys": None, "siemens": 128}
    for case, folder in compiled.items():
        result = compile_paths([folder / "case.rules"], "st", dialect=dialect)
        assert result.ok, (case, [d.message for d in result.diagnostics if d.is_error])
        text = next(t for name, t in result.files.items() if not name.endswith(".json"))
        code = re.sub(r"\(\*.*?\*\)|//[^\n]*|'[^'\n]*'", "", text, flags=re.S)
        longest = max((len(w) for w in re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", code)), default=0)
        limit = limits[dialect]
        assert limit is None or longest <= limit, (case, dialect, longest)


def test_a_configured_limit_shortens_stably_and_lists_every_rename(compiled: dict[str, Path]) -> None:
    import json

    rules = compiled["longest-names-in-every-role"] / "case.rules"
    result = compile_paths([rules], "st", dialect="codesys", identifier_limit=24)
    source_map = json.loads(result.files["case.codesys.st.map.json"])
    assert source_map["identifier_limit"] == 24
    renamed = {wanted: used for wanted, used, _, _ in source_map["renamed"]}
    shortened = renamed[_longest("input")]
    assert shortened.startswith("input_long_name_") and shortened[-5] == "_" and len(shortened) == 24
    assert all(len(used) <= 24 for used in renamed.values())
    again = compile_paths([rules], "st", dialect="codesys", identifier_limit=24)
    assert again.files == result.files  # the same names in every build
    warnings = [d for d in result.diagnostics if d.code == "target-rename"]
    assert len(warnings) == len(renamed)


def test_every_case_compiles_with_matiec(compiled: dict[str, Path], tmp_path: Path) -> None:
    try:
        toolchain = matiec.find_toolchain()
    except matiec.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have MATIEC (.ci/run builds it): {exc}")
        pytest.skip(str(exc).split(":")[0])
    texts = {
        case: compile_paths([folder / "case.rules"], "st", dialect="iec").files["case.iec.st"]
        for case, folder in compiled.items()
        if case != "no-program"  # nothing to compile: MATIEC wants a program
    }
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(lambda item: matiec.accept(toolchain, item[1], tmp_path / item[0]), texts.items()))
