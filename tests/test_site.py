"""Site parameter files: a site's parameter values in TOML, checked and converted, and `--params`.

`hpdsl.compile.site` reads a TOML file with one table per program and one key per parameter, converts
every value to the unit the rules declare, and checks it against the parameter's type and
range; `hpdsl check --params` reports the problems and `hpdsl compile --params` bakes the
values into the generated code as the parameters' defaults.
"""

from __future__ import annotations

import itertools
import json
import re
import textwrap
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import ModuleType

import pytest
from pytarget import import_module

from hpdsl import cli
from hpdsl.base.files import UsageError
from hpdsl.base.source import SourceFile
from hpdsl.codegen.compiler import lower_paths
from hpdsl.compile import ir, site

RULES = """
enum Strategy (TimeBased, Demand) "Defrost strategy"

program Changeover "Mode changeover"
    input outdoor_temp: C range -40C .. 60C fallback 10C "Outdoor air temperature"
    parameter cooling_above: C = 21C range 18C .. 30C "Cool above this"
    parameter frost_below: C = 2C range -10C .. 10C "Frost forms below this"
    parameter defrost_interval: min = 90 min range 30 min .. 180 min "Time between defrosts"
    parameter factor: real = 0.7 range 0.1 .. 2.0 "A plain factor"
    parameter stages: int = 2 range 1 .. 4 "Compressor stages"
    parameter enabled: bool = true "Cooling allowed"
    parameter defrost_strategy: Strategy = Demand "How defrosts are started"
    parameter dead_band: K = 6 K range 2 K .. 10 K "Least gap between the thresholds"
    output cooling: bool "Cooling"
    output frosty: bool "Frost likely"
    output due: bool "Defrost due"
    output level: real "Level"
    output staged: int "Stages"
    output timed: bool "Time-based defrost"
    output wide: bool "Thresholds far enough apart"

    rule decide
        cooling = enabled and outdoor_temp > cooling_above
        frosty = outdoor_temp < frost_below
        due = outdoor_temp < 0C for defrost_interval
        level = factor * 2
        staged = stages
        timed = defrost_strategy == TimeBased
        wide = cooling_above - frost_below > dead_band
    end
end

program AuxHeat "Auxiliary heat"
    input required_heat: kW range 0 kW .. 200 kW "Heat needed"
    parameter stage_1_above: kW = 20 kW range 5 kW .. 100 kW "Stage 1 above this"
    output stage_1: bool "Stage 1"

    rule stage
        stage_1 = required_heat > stage_1_above
    end
end
"""

GOOD_SITE = """\
# Greensboro: a warmer changeover, longer defrost interval.
[Changeover]
cooling_above = "72F"
frost_below = "23F"
defrost_interval = "2 h"
factor = 0.5
stages = 3
enabled = false
defrost_strategy = "TimeBased"

[AuxHeat]
stage_1_above = "25000 W"
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working folder holding the package in `pkg/`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "plant.rules").write_text(textwrap.dedent(RULES), encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> ir.Package:
    folder = tmp_path_factory.mktemp("site") / "pkg"
    folder.mkdir()
    (folder / "plant.rules").write_text(textwrap.dedent(RULES), encoding="utf-8")
    lowered = lower_paths([folder])
    assert lowered.package is not None, [d.message for d in lowered.diagnostics]
    return lowered.package


def check(package: ir.Package, text: str) -> site.SiteParameters:
    return site.check(SourceFile("site.toml", text), package)


def problems(package: ir.Package, text: str) -> list[tuple[str, int, int, str]]:
    found = check(package, text)
    return [(d.code, d.span.line, d.span.column, d.message) for d in found.diagnostics]


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- values --------------------------------------------------------------------------------


def test_a_whole_site_file(package: ir.Package) -> None:
    result = check(package, GOOD_SITE)
    assert result.diagnostics == []
    assert result.ok
    changeover = result.for_program("Changeover")
    assert changeover == {
        "cooling_above": pytest.approx(22.0 + 2 / 9),  # 72F
        "frost_below": pytest.approx(-5.0),  # 23F
        "defrost_interval": 120.0,  # 2 h, in the declared min
        "factor": 0.5,
        "stages": 3,
        "enabled": False,
        "defrost_strategy": "TimeBased",
    }
    assert result.for_program("AuxHeat") == {"stage_1_above": 25.0}
    assert result.for_program("Nobody") == {}
    setting = result.settings["Changeover"]["defrost_interval"]
    assert (setting.program, setting.parameter) == ("Changeover", "defrost_interval")
    assert (setting.span.file, setting.span.line, setting.span.column) == ("site.toml", 5, 20)


@pytest.mark.parametrize(
    ("parameter", "written", "expected"),
    [
        ("cooling_above", '"22 C"', 22.0),
        ("cooling_above", '"22C"', 22.0),
        ("cooling_above", '"22 °C"', 22.0),
        ("cooling_above", '"72F"', 22.0 + 2 / 9),
        ("cooling_above", '"71.6 F"', 22.0),
        ("frost_below", '"-5C"', -5.0),
        ("frost_below", '"14 F"', -10.0),
        ("defrost_interval", '"2 h"', 120.0),
        ("defrost_interval", '"5400 s"', 90.0),
        ("defrost_interval", '"45min"', 45.0),
        ("defrost_interval", '"0.125 d"', 180.0),
        ("factor", "0.5", 0.5),
        ("factor", "1", 1.0),
        ("factor", '"1.5"', 1.5),
        ("stages", "4", 4),
        ("stages", '"3"', 3),
        ("dead_band", '"5 K"', 5.0),
        ("dead_band", '"9 delta_F"', 5.0),
        ("enabled", "true", True),
        ("enabled", "false", False),
        ("enabled", '"false"', False),
        ("defrost_strategy", '"TimeBased"', "TimeBased"),
        ("defrost_strategy", '"Demand"', "Demand"),
    ],
)
def test_values_are_converted_to_the_declared_unit(
    package: ir.Package, parameter: str, written: str, expected: object
) -> None:
    result = check(package, f"[Changeover]\n{parameter} = {written}\n")
    assert result.diagnostics == []
    value = result.for_program("Changeover")[parameter]
    assert value == pytest.approx(expected) if isinstance(expected, float) else value == expected
    assert type(value) is type(expected)


def test_the_range_ends_are_allowed(package: ir.Package) -> None:
    result = check(package, '[Changeover]\ncooling_above = "18C"\ndefrost_interval = "3 h"\nstages = 1\n')
    assert result.diagnostics == []
    assert result.for_program("Changeover") == {"cooling_above": 18.0, "defrost_interval": 180.0, "stages": 1}


def test_an_empty_file_sets_nothing(package: ir.Package) -> None:
    result = check(package, "# nothing for this site\n")
    assert (result.settings, result.diagnostics, result.ok) == ({}, [], True)


# --- errors with their place ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('[Changeover]\ncooling_above = "72F\n', id="unterminated-string"),
        pytest.param("[Changeover]\nfactor = = 1\n", id="two-equals"),
        pytest.param("[Changeover]\nfactor 1\n", id="no-equals"),
        pytest.param("[Changeover\nfactor = 1\n", id="unclosed-table"),
        pytest.param("[Changeover]\nfactor = 1\nfactor = 2\n", id="key-twice"),
        pytest.param("[Changeover]\n\n\ncooling_above = 22 C\n", id="unit-without-quotes"),
    ],
)
def test_invalid_toml_is_reported_where_tomllib_finds_it(package: ir.Package, text: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as raised:
        tomllib.loads(text)
    position = re.search(r"\(at line (\d+), column (\d+)\)", str(raised.value))
    assert position is not None
    result = check(package, text)
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "site-file"
    assert (diagnostic.span.line, diagnostic.span.column) == (int(position[1]), int(position[2]))
    assert diagnostic.message.startswith("not valid TOML: ")
    assert "(at line" not in diagnostic.message  # the place is in the span, not repeated
    assert result.settings == {}
    assert not result.ok


def test_an_unknown_program(package: ir.Package) -> None:
    result = check(package, "[Changover]\nfactor = 1\n")
    (diagnostic,) = result.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column, diagnostic.message) == (
        "site-parameter",
        1,
        2,
        "the package has no program `Changover`",
    )
    assert diagnostic.hint == "did you mean `Changeover`?"


def test_an_unknown_parameter(package: ir.Package) -> None:
    result = check(package, '[Changeover]\nenabled = true\n  cooling_abve = "22C"\n')
    (diagnostic,) = result.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column, diagnostic.message) == (
        "site-parameter",
        3,
        3,
        "program `Changeover` has no parameter `cooling_abve`",
    )
    assert diagnostic.hint == "did you mean `cooling_above`?"
    # The other values are still read.
    assert result.for_program("Changeover") == {"enabled": True}


def test_an_input_is_not_a_parameter(package: ir.Package) -> None:
    result = check(package, '[Changeover]\noutdoor_temp = "10C"\n')
    assert [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics] == [
        ("site-parameter", 2, 1, "program `Changeover` has no parameter `outdoor_temp`")
    ]


@pytest.mark.parametrize(
    ("line", "column", "message", "hint"),
    [
        pytest.param(
            'cooling_above = "22 kW"',
            17,
            "`Changeover.cooling_above`: cannot convert power (kW) to temperature (C)",
            "write a temperature (21C)",
            id="wrong-unit",
        ),
        pytest.param(
            'defrost_interval = "20C"',
            20,
            "`Changeover.defrost_interval`: cannot convert temperature (C) to time (min)",
            "write a time (5 min)",
            id="wrong-unit-time",
        ),
        pytest.param(
            'cooling_above = "22 K"',
            17,
            "`Changeover.cooling_above`: cannot convert a temperature difference (K) to an absolute"
            " temperature (C)",
            None,
            id="difference-for-absolute",
        ),
        pytest.param(
            'dead_band = "5C"',
            13,
            "`Changeover.dead_band`: cannot convert an absolute temperature (C) to a temperature"
            " difference (K)",
            None,
            id="absolute-for-difference",
        ),
        pytest.param(
            "cooling_above = 22",
            17,
            "`Changeover.cooling_above`: `22` has no unit, but temperature is expected",
            "write `22C`",
            id="missing-unit",
        ),
        pytest.param(
            'defrost_interval = "120"',
            20,
            "`Changeover.defrost_interval`: `120` has no unit, but time is expected",
            "write `120 min`",
            id="missing-unit-in-string",
        ),
        pytest.param(
            'cooling_above = "22 Cx"',
            17,
            "`Changeover.cooling_above`: unknown unit `Cx`",
            "did you mean C?",
            id="unknown-unit",
        ),
        pytest.param(
            'factor = "0.5 kW"',
            10,
            "`Changeover.factor`: cannot convert power (kW) to a plain number",
            "write a number",
            id="unit-on-a-plain-number",
        ),
        pytest.param(
            'defrost_strategy = "Timed"',
            20,
            "`Changeover.defrost_strategy`: `Timed` is not a member of Strategy",
            "write one of TimeBased, Demand",
            id="not-a-member",
        ),
        pytest.param(
            "defrost_strategy = 1",
            20,
            "`Changeover.defrost_strategy`: `1` is not a member of Strategy",
            "write one of TimeBased, Demand",
            id="number-for-a-member",
        ),
        pytest.param(
            'enabled = "yes"',
            11,
            "`Changeover.enabled`: `yes` is not true or false",
            "write `true` or `false`",
            id="not-a-bool",
        ),
        pytest.param(
            "stages = 2.5",
            10,
            "`Changeover.stages`: `2.5` is not a whole number",
            None,
            id="not-whole",
        ),
        pytest.param(
            'stages = "2 kW"',
            10,
            "`Changeover.stages`: `2 kW` is not a whole number",
            None,
            id="unit-on-an-int",
        ),
        pytest.param(
            'cooling_above = "35C"',
            17,
            "`Changeover.cooling_above`: 35C is outside its range 18C .. 30C",
            None,
            id="above-range",
        ),
        pytest.param(
            'cooling_above = "50F"',
            17,
            "`Changeover.cooling_above`: 10C is outside its range 18C .. 30C",
            None,
            id="below-range-in-other-unit",
        ),
        pytest.param(
            'defrost_interval = "4 h"',
            20,
            "`Changeover.defrost_interval`: 240 min is outside its range 30 min .. 180 min",
            None,
            id="time-out-of-range",
        ),
        pytest.param(
            "stages = 9",
            10,
            "`Changeover.stages`: 9 is outside its range 1 .. 4",
            None,
            id="int-out-of-range",
        ),
        pytest.param(
            "factor = 0.05",
            10,
            "`Changeover.factor`: 0.05 is outside its range 0.1 .. 2",
            None,
            id="real-out-of-range",
        ),
    ],
)
def test_values_that_do_not_fit(
    package: ir.Package, line: str, column: int, message: str, hint: str | None
) -> None:
    result = check(package, f"# a comment first\n[Changeover]\n{line}\n")
    (diagnostic,) = result.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column, diagnostic.message) == (
        "site-value",
        3,
        column,
        message,
    )
    if hint is not None:
        assert diagnostic.hint == hint
    assert diagnostic.hint  # every value problem says how to write it
    assert result.settings == {}
    assert not result.ok


def test_every_problem_of_a_file_is_reported(package: ir.Package) -> None:
    text = '[Changeover]\ncooling_above = "35C"\nstages = 3\nfactor = "x"\n\n[Aux]\nstage_1_above = 1\n'
    assert problems(package, text) == [
        ("site-value", 2, 17, "`Changeover.cooling_above`: 35C is outside its range 18C .. 30C"),
        ("site-value", 4, 10, "`Changeover.factor`: `x` is not a number; expected a number"),
        ("site-parameter", 6, 2, "the package has no program `Aux`"),
    ]
    # What fits is still read, so every problem shows at once.
    assert check(package, text).for_program("Changeover") == {"stages": 3}


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        pytest.param("factor = 1\n", 1, 1, "`factor` is not a table of parameters", id="key-outside-a-table"),
        pytest.param("[Changeover]\nfactor = [1, 2]\n", 2, 1, "`Changeover.factor` holds a list", id="list"),
        pytest.param(
            "[Changeover]\nfactor = { low = 1 }\n",
            2,
            1,
            "`Changeover.factor` holds a table",
            id="inline-table",
        ),
    ],
)
def test_a_file_of_the_wrong_shape(
    package: ir.Package, text: str, line: int, column: int, message: str
) -> None:
    assert problems(package, text) == [("site-file", line, column, message)]


def test_a_sub_table_is_reported_on_its_own_line(package: ir.Package) -> None:
    text = "[Changeover]\nfactor = 0.5\n\n[Changeover.extra]\nx = 1\n"
    assert [(code, line) for code, line, _, _ in problems(package, text)] == [("site-file", 4)]


def test_the_span_of_a_quoted_value_ends_with_the_value(package: ir.Package) -> None:
    (diagnostic,) = check(package, '[Changeover]\ncooling_above = "35C"  # too warm\n').diagnostics
    assert (diagnostic.span.column, diagnostic.span.end_column) == (17, 22)


def test_the_span_of_a_number_ends_with_the_number(package: ir.Package) -> None:
    (diagnostic,) = check(package, "[Changeover]\nstages = 9   # too many\n").diagnostics
    assert (diagnostic.span.line, diagnostic.span.column, diagnostic.span.end_column) == (2, 10, 11)


# --- reading files ---------------------------------------------------------------------------


def test_read_a_file(in_tmp: Path, package: ir.Package) -> None:
    (in_tmp / "site.toml").write_text(GOOD_SITE, encoding="utf-8")
    result = site.read(Path("site.toml"), package)
    assert result.ok
    assert result.name == "site.toml"
    assert result.source is not None and result.source.text == GOOD_SITE
    assert result.for_program("Changeover")["defrost_interval"] == 120.0


def test_read_a_missing_file_is_a_usage_error(in_tmp: Path, package: ir.Package) -> None:
    with pytest.raises(UsageError, match=re.escape("no such site parameter file: `nowhere.toml`")):
        site.read(Path("nowhere.toml"), package)


def test_read_a_file_that_is_not_utf8(in_tmp: Path, package: ir.Package) -> None:
    (in_tmp / "site.toml").write_bytes(b'[Changeover]\ncooling_above = "72\xb0F"\n')
    result = site.read(Path("site.toml"), package)
    assert [d.code for d in result.diagnostics] == ["bad-encoding"]
    assert result.settings == {}
    assert not result.ok


def test_apply_sets_the_defaults_of_the_package(package: ir.Package) -> None:
    applied = site.apply(package, check(package, '[Changeover]\ndefrost_interval = "2 h"\n'))
    (changeover,) = [p for p in applied.programs if p.name == "Changeover"]
    (interval,) = [v for v in changeover.variables if v.name == "defrost_interval"]
    assert isinstance(interval.initial, ir.Literal_) and interval.initial.value == 120.0
    # The package it was given is left as it was.
    (original,) = [p for p in package.programs if p.name == "Changeover"]
    (before,) = [v for v in original.variables if v.name == "defrost_interval"]
    assert isinstance(before.initial, ir.Literal_) and before.initial.value == 90.0


# --- hpdsl check --params ------------------------------------------------------------------------


def test_check_with_a_good_site_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "site.toml").write_text(GOOD_SITE, encoding="utf-8")
    code, out, err = cli_run(capsys, "check", "pkg", "--params", "site.toml")
    assert (code, out, err) == (0, "no problems in 2 files\n", "")


def test_check_with_a_bad_site_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "site.toml").write_text('[Changeover]\nstages = 2\ncooling_above = "35C"\n', encoding="utf-8")
    code, out, err = cli_run(capsys, "check", "pkg", "--params", "site.toml")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == (
        "site.toml:3:17: error: `Changeover.cooling_above`: 35C is outside its range 18C .. 30C [site-value]"
    )
    assert lines[1] == ' 3 | cooling_above = "35C"'
    assert lines[-1] == "1 error in 2 files"


def test_check_reports_every_kind_of_site_error(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "site.toml").write_text(
        '[Changeover]\nstages = 9\nfactr = 1\n\n[AuxHeet]\nstage_1_above = "25 kW"\n', encoding="utf-8"
    )
    code, out, _ = cli_run(capsys, "check", "pkg", "--params", "site.toml", "--format", "json")
    assert code == 1
    found = [(d["code"], d["line"], d["column"], d["hint"]) for d in json.loads(out)]
    assert found == [
        (
            "site-value",
            2,
            10,
            "the rules declare this range; a value outside it is rejected on the controller too",
        ),
        ("site-parameter", 3, 1, "did you mean `factor`?"),
        ("site-parameter", 5, 2, "did you mean `AuxHeat`?"),
    ]
    assert {d["file"] for d in json.loads(out)} == {"site.toml"}


def test_check_with_invalid_toml(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "site.toml").write_text('[Changeover]\ncooling_above = "72F\n', encoding="utf-8")
    code, out, _ = cli_run(capsys, "check", "pkg", "--params", "site.toml")
    assert code == 1
    assert out.startswith("site.toml:2:21: error: not valid TOML: ")
    assert "[site-file]" in out.splitlines()[0]


def test_check_with_a_missing_site_file_is_a_usage_error(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli_run(capsys, "check", "pkg", "--params", "nowhere.toml")
    assert (code, out) == (2, "")
    assert err == "hpdsl check: error: no such site parameter file: `nowhere.toml`\n"


def test_check_reports_rules_errors_before_the_site_file(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = in_tmp / "pkg" / "plant.rules"
    rules.write_text(
        rules.read_text().replace("level = factor * 2", "level = factor * 2 kW"), encoding="utf-8"
    )
    (in_tmp / "site.toml").write_text(GOOD_SITE, encoding="utf-8")
    code, out, _ = cli_run(capsys, "check", "pkg", "--params", "site.toml")
    assert code == 1
    assert "pkg/plant.rules:" in out
    assert "site.toml" not in out


def test_check_strict_with_a_good_site_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "site.toml").write_text(GOOD_SITE, encoding="utf-8")
    code, out, _ = cli_run(capsys, "check", "pkg", "--params", "site.toml", "--strict")
    assert (code, out) == (0, "no problems in 2 files\n")


# --- hpdsl compile --params ----------------------------------------------------------------------


def import_generated(path: Path) -> ModuleType:
    """Import a generated module from a copy beside its output folder (which stays as written)."""
    return import_module(
        path.parent.parent, path.read_text(encoding="utf-8"), f"site_generated_{next(_modules)}"
    )


_modules = itertools.count()


def test_compile_python_bakes_the_values_in_as_defaults(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "site.toml").write_text(
        '[Changeover]\ncooling_above = "72F"\ndefrost_interval = "2 h"\nstages = 3\nenabled = false\n'
        'defrost_strategy = "TimeBased"\n',
        encoding="utf-8",
    )
    code, out, _ = cli_run(
        capsys, "compile", "pkg", "--target", "python", "-o", "out", "--params", "site.toml"
    )
    assert code == 0
    assert out == "wrote 1 file(s) to out: pkg.py\n"
    module = import_generated(in_tmp / "out" / "pkg.py")
    program = module.Changeover()
    assert program.cooling_above == pytest.approx(22.0 + 2 / 9)
    assert program.defrost_interval == 120.0
    assert program.stages == 3
    assert program.enabled is False
    assert program.defrost_strategy is module.Strategy.TimeBased
    # What the site file leaves out keeps the rules' default.
    assert program.factor == 0.7
    assert program.frost_below == 2.0
    assert module.AuxHeat().stage_1_above == 20.0
    defaults = {p.name: p.default for p in module.Changeover.POINTS if p.kind == "parameter"}
    assert defaults["defrost_interval"] == 120.0
    # A constructor argument still overrides the baked-in default.
    assert module.Changeover(defrost_interval=45.0).defrost_interval == 45.0
    # The program runs with the new default: below 0C for 100 min is past the rules' 90 min
    # but not yet the site's 2 h.
    program.outdoor_temp = -1.0
    for _ in range(100):
        program.scan(60.0)
    assert program.due is False
    for _ in range(25):
        program.scan(60.0)
    assert program.due is True


def test_compile_python_without_params_keeps_the_rules_defaults(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = cli_run(capsys, "compile", "pkg", "--target", "python", "-o", "out")
    assert code == 0
    module = import_generated(in_tmp / "out" / "pkg.py")
    program = module.Changeover()
    assert (program.cooling_above, program.defrost_interval, program.stages, program.enabled) == (
        21.0,
        90.0,
        2,
        True,
    )
    assert program.defrost_strategy is module.Strategy.Demand


def var_input(st_text: str, block: str) -> str:
    """The VAR_INPUT section of a function block in Structured Text."""
    match = re.search(rf"FUNCTION_BLOCK {block}\nVAR_INPUT\n(.*?)\nEND_VAR", st_text, re.DOTALL)
    assert match is not None, st_text
    return match.group(1)


def test_compile_st_bakes_the_values_in_as_defaults(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "site.toml").write_text(GOOD_SITE, encoding="utf-8")
    code, _, _ = cli_run(capsys, "compile", "pkg", "--target", "st", "-o", "out", "--params", "site.toml")
    assert code == 0
    inputs = var_input((in_tmp / "out" / "pkg.iec.st").read_text(encoding="utf-8"), "Changeover")
    declared = {m[1]: m[2] for m in re.finditer(r"^\s*(\w+) : \w+ := ([^;]+);", inputs, re.MULTILINE)}
    assert float(declared["cooling_above"]) == pytest.approx(22.0 + 2 / 9)
    assert float(declared["frost_below"]) == pytest.approx(-5.0)
    assert declared["defrost_interval"] == "120.0"
    assert declared["factor"] == "0.5"
    assert declared["stages"] == "3"
    assert declared["enabled"] == "FALSE"
    assert declared["defrost_strategy"] == "STRATEGY_TIME_BASED"
    aux = var_input((in_tmp / "out" / "pkg.iec.st").read_text(encoding="utf-8"), "AuxHeat")
    assert re.search(r"^\s*stage_1_above : LREAL := 25\.0;", aux, re.MULTILINE)


def test_compile_st_without_params_keeps_the_rules_defaults(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = cli_run(capsys, "compile", "pkg", "--target", "st", "-o", "out")
    assert code == 0
    inputs = var_input((in_tmp / "out" / "pkg.iec.st").read_text(encoding="utf-8"), "Changeover")
    assert re.search(r"^\s*defrost_interval : LREAL := 90\.0;", inputs, re.MULTILINE)
    assert re.search(r"^\s*defrost_strategy : Strategy := STRATEGY_DEMAND;", inputs, re.MULTILINE)


def test_compile_plcopen_bakes_the_values_in_as_initial_values(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "site.toml").write_text(GOOD_SITE, encoding="utf-8")
    code, _, _ = cli_run(
        capsys, "compile", "pkg", "--target", "plcopen", "-o", "out", "--params", "site.toml"
    )
    assert code == 0
    root = ElementTree.parse(in_tmp / "out" / "pkg.xml").getroot()
    (pou,) = [e for e in root.iter() if e.tag.endswith("}pou") and e.get("name") == "Changeover"]
    initial = {}
    for variable in pou.iter():
        if variable.tag.endswith("}variable"):
            values = [e.get("value") for e in variable.iter() if e.tag.endswith("}simpleValue")]
            if values:
                initial[variable.get("name")] = values[0]
    assert initial["defrost_interval"] == "120.0"
    assert float(initial["cooling_above"]) == pytest.approx(22.0 + 2 / 9)
    assert initial["stages"] == "3"
    assert initial["enabled"] == "FALSE"


@pytest.mark.parametrize(
    ("arguments", "files"),
    [
        (["--target", "python"], ["pkg.py"]),
        (["--target", "st"], ["pkg.iec.st", "pkg.iec.st.map.json"]),
        (["--target", "st", "--dialect", "codesys"], ["pkg.codesys.st", "pkg.codesys.st.map.json"]),
        (["--target", "st", "--dialect", "siemens"], ["pkg.scl", "pkg.scl.map.json"]),
        (["--target", "plcopen"], ["pkg.xml", "pkg.xml.map.json"]),
    ],
    ids=["python", "iec", "codesys", "siemens", "plcopen"],
)
def test_compile_with_params_stamps_every_file_with_the_site(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], files: list[str]
) -> None:
    import hashlib
    import json

    (in_tmp / "site.toml").write_bytes(GOOD_SITE.encode("utf-8"))
    digest = hashlib.sha256(GOOD_SITE.encode("utf-8")).hexdigest()
    code, _, _ = cli_run(capsys, "compile", "pkg", *arguments, "-o", "out", "--params", "site.toml")
    assert code == 0
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == sorted(files)
    for name in files:
        text = (in_tmp / "out" / name).read_text(encoding="utf-8")
        if name.endswith(".map.json"):
            assert json.loads(text)["site"] == {"file": "site.toml", "sha256": digest}
        else:
            assert f"Site parameters: site.toml (SHA-256 {digest})" in text[:2000]  # the file's header
    # Without a site file the build says nothing of one.
    code, _, _ = cli_run(capsys, "compile", "pkg", *arguments, "-o", "plain")
    assert code == 0
    for name in files:
        text = (in_tmp / "plain" / name).read_text(encoding="utf-8")
        assert "Site parameters" not in text and '"site"' not in text


@pytest.mark.parametrize("target", ["python", "st", "plcopen"])
def test_compile_with_a_bad_site_file_writes_nothing(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    (in_tmp / "site.toml").write_text('[Changeover]\ndefrost_interval = "4 h"\n', encoding="utf-8")
    code, out, err = cli_run(
        capsys, "compile", "pkg", "--target", target, "-o", "out", "--params", "site.toml"
    )
    assert code == 1
    assert out == ""
    assert err.startswith(
        "site.toml:2:20: error: `Changeover.defrost_interval`: 240 min is outside its range 30 min .. 180 min"
        " [site-value]\n"
    )
    assert not (in_tmp / "out").exists()


def test_compile_with_a_bad_site_file_leaves_earlier_output_alone(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = cli_run(capsys, "compile", "pkg", "--target", "python", "-o", "out")
    assert code == 0
    generated = (in_tmp / "out" / "pkg.py").read_bytes()
    (in_tmp / "site.toml").write_text('[Changeover]\ncooling_above = "72 kW"\n', encoding="utf-8")
    code, _, err = cli_run(
        capsys, "compile", "pkg", "--target", "python", "-o", "out", "--params", "site.toml"
    )
    assert code == 1
    assert "[site-value]" in err
    assert (in_tmp / "out" / "pkg.py").read_bytes() == generated
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == ["pkg.py"]


def test_compile_with_a_missing_site_file_is_a_usage_error(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli_run(
        capsys, "compile", "pkg", "--target", "python", "-o", "out", "--params", "x.toml"
    )
    assert (code, out) == (2, "")
    assert "no such site parameter file: `x.toml`" in err
    assert not (in_tmp / "out").exists()
