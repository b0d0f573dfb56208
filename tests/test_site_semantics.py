"""Site files checked with the rules' semantics: `require` between parameters, every check of
values run with a site's values (at the site file's line), the site files of a folder, `hpdsl
diff` of site values, and scenarios that state the parameter values they are written for.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest
from pytarget import import_module

from hpdsl import cli
from hpdsl.base.source import SourceFile
from hpdsl.codegen.compiler import compile_paths
from hpdsl.compile import ir, site
from hpdsl.tools.testing.execute import compile_package, run_scenario
from hpdsl.tools.testing.results import TestReport as Report
from hpdsl.tools.testing.runner import discover, parse_file

REPO = Path(__file__).resolve().parent.parent

RULES = """
program Loop "Ground-loop watch and a changeover band"
    input loop_temp: C range -20C .. 60C fallback 10C "Entering loop water"
    input outdoor_temp: C range -40C .. 60C fallback 10C "Outdoor air"
    parameter band_low: C = 10C range 0C .. 20C "Lower end of the loop band"
    parameter band_high: C = 15C range 5C .. 25C "Upper end of the loop band"
    parameter heat_below: C = 15C range 5C .. 20C "Heating below this"
    parameter cool_above: C = 21C range 15C .. 30C "Cooling above this"
    parameter divisor: K = 2 K range 0 K .. 10 K "A span the rules divide by"
    output out_of_band: bool = false "Loop outside its band"
    output cooling: bool = false "Cooling selected"
    output ratio: real = 0 "Loop position in the band"

    require band_order: band_low < band_high "The band's lower end lies below its upper end."

    hysteresis cooling on outdoor_temp
        below heat_below -> false
        above cool_above -> true  # allow: band-can-invert
    end

    rule watch
        out_of_band = loop_temp < band_low or loop_temp > band_high
        ratio = (loop_temp - band_low) / divisor  # allow: unguarded-division
    end
end
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the package in `pkg/`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "loop.rules").write_text(textwrap.dedent(RULES).lstrip(), encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def headlines(out: str) -> list[str]:
    """The first line of each diagnostic."""
    return [line for line in out.splitlines() if ": error: " in line or ": warning: " in line]


# --- 1. `require` -------------------------------------------------------------------------------


def test_the_rules_check_clean_with_their_defaults(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "pkg") == (0, "no problems in 1 file\n", "")


def test_a_require_broken_by_the_defaults(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = in_tmp / "pkg" / "loop.rules"
    rules.write_text(rules.read_text().replace("band_high: C = 15C", "band_high: C = 8C"), encoding="utf-8")
    code, out, _ = run(capsys, "check", "pkg")
    assert code == 1
    assert headlines(out) == [
        "pkg/loop.rules:13:25: error: `require band_order` does not hold: `band_low` = 10C, `band_high` = 8C"
        " [constraint]"
    ]
    assert "= hint: The band's lower end lies below its upper end." in out


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ("band_low < loop_temp", "not-constant"),  # an input: not known before the first scan
        ("band_high - band_low", "type-mismatch"),  # not a condition
        ("band_low < band_high priority 2", "invalid-clause"),  # a require writes nothing
    ],
)
def test_what_a_require_may_not_be(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], condition: str, code: str
) -> None:
    rules = in_tmp / "pkg" / "loop.rules"
    text = rules.read_text().replace(
        'require band_order: band_low < band_high "', f'require band_order: {condition} "'
    )
    rules.write_text(text, encoding="utf-8")
    status, out, _ = run(capsys, "check", "pkg")
    assert status == 1
    assert [line.rsplit("[", 1)[1] for line in headlines(out)] == [f"{code}]"]


def test_python_refuses_to_construct_with_parameters_that_break_a_require(tmp_path: Path) -> None:
    (tmp_path / "loop.rules").write_text(textwrap.dedent(RULES).lstrip(), encoding="utf-8")
    result = compile_paths([tmp_path], "python", "loop")
    assert result.ok
    module = import_module(tmp_path, result.files["loop.py"], "_require_loop")
    with pytest.raises(ValueError, match=r"require band_order.*\(band_low=14\.0, band_high=12\.0\)"):
        module.Loop(band_low=14.0, band_high=12.0)
    assert module.Loop(band_low=11.0, band_high=12.0).band_high == 12.0


def test_python_undoes_a_write_that_breaks_a_require(tmp_path: Path) -> None:
    """The run-time check: the last valid values return and the parameter alarm is raised, as on a PLC
    (tests/test_matiec.py runs the same on MATIEC's build of the `iec` output)."""
    (tmp_path / "loop.rules").write_text(textwrap.dedent(RULES).lstrip(), encoding="utf-8")
    module = import_module(
        tmp_path, compile_paths([tmp_path], "python", "loop").files["loop.py"], "_require_run"
    )
    loop = module.Loop()
    loop.scan(1.0)
    loop.band_low = 18.0  # in its range, above band_high
    loop.scan(1.0)
    assert (loop.band_low, loop.band_high, loop.parameter_fault) == (10.0, 15.0, True)
    loop.band_high = 24.0
    loop.band_low = 18.0  # together they keep the require
    loop.scan(1.0)
    assert (loop.band_low, loop.band_high, loop.parameter_fault) == (18.0, 24.0, False)
    loop.divisor = 11.0  # out of range: only this one is undone
    loop.scan(1.0)
    assert (loop.band_low, loop.divisor, loop.parameter_fault) == (18.0, 2.0, True)


def test_the_shipped_package_keeps_its_requires_on_every_target(in_tmp: Path) -> None:
    for target, dialect in (("python", None), ("st", "iec"), ("st", "codesys"), ("st", "siemens")):
        result = compile_paths([REPO / "rules"], target, dialect=dialect)
        text = next(t for name, t in result.files.items() if not name.endswith(".json"))
        assert "ground_temp_min" in text
        if target == "python":
            assert "`require ground_band_order` does not hold" in text
        else:  # the run-time check puts the last valid values back
            assert "ground_temp_min := ground_temp_min_last_valid;" in text.replace('"', "").replace("#", "")


# --- 2. the checks of values with a site's values ----------------------------------------------


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        (
            '[Loop]\nband_low = "18C"\nband_high = "8C"\n',
            "site.toml:2:12: error: `require band_order` does not hold: `band_low` = 18C, `band_high` = 8C"
            " [constraint]",
        ),
        (
            '[Loop]\nheat_below = "20C"\ncool_above = "16C"\n',
            "site.toml:2:14: error: hysteresis `cooling`: the `below` threshold 20C is not below the `above`"
            " threshold 16C [hysteresis-order]",
        ),
        ('[Loop]\ndivisor = "0 K"\n', "site.toml:2:11: error: division by zero [division-by-zero]"),
    ],
    ids=["require", "hysteresis-order", "division-by-zero"],
)
def test_a_site_value_that_breaks_a_check_is_reported_at_its_line(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], site: str, expected: str
) -> None:
    (in_tmp / "site.toml").write_text(site, encoding="utf-8")
    code, out, _ = run(capsys, "check", "pkg", "--params", "site.toml")
    assert code == 1
    assert headlines(out) == [expected]
    assert "note: with the site's `Loop." in out  # and the rules' construct it breaks, as a note
    assert out.splitlines()[-1] == "1 error in 2 files"


def test_the_inverted_ground_band_of_the_shipped_package(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    site = tmp_path / "site.toml"
    site.write_text('[Sources]\nground_temp_min = "18C"\nground_temp_max = "8C"\n', encoding="utf-8")
    code, out, _ = run(capsys, "check", str(REPO / "rules"), "--params", str(site))
    assert code == 1
    assert headlines(out) == [
        f"{site}:2:19: error: `require ground_band_order` does not hold: `ground_temp_min` = 18C,"
        " `ground_temp_max` = 8C [constraint]"
    ]
    assert f"{site}:3:19: note: the site sets `Sources.ground_temp_max` = 8C here" in out


def test_a_site_value_that_fixes_nothing_and_breaks_nothing_is_quiet(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "site.toml").write_text('[Loop]\nband_low = "12C"\ncool_above = "25C"\n', encoding="utf-8")
    assert run(capsys, "check", "pkg", "--params", "site.toml") == (0, "no problems in 2 files\n", "")


def test_compile_and_test_refuse_a_site_that_breaks_a_require(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "site.toml").write_text('[Loop]\nband_low = "18C"\n', encoding="utf-8")
    code, out, err = run(capsys, "compile", "pkg", "--target", "python", "--params", "site.toml", "-o", "out")
    assert code == 1 and "[constraint]" in out + err
    assert not (in_tmp / "out").exists()


# --- 3. the site files of a folder ------------------------------------------------------------


def test_check_of_a_folder_checks_its_site_files(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sites = in_tmp / "pkg" / "sites"
    sites.mkdir()
    (sites / "a-good.toml").write_text('[Loop]\nband_high = "20C"\n', encoding="utf-8")
    (sites / "b-bad.toml").write_text('[Loop]\n\nband_low = "16C"\n', encoding="utf-8")
    code, out, _ = run(capsys, "check", "pkg")
    assert code == 1
    assert headlines(out) == [
        "pkg/sites/b-bad.toml:3:12: error: `require band_order` does not hold: `band_low` = 16C,"
        " `band_high` = 15C [constraint]"
    ]
    assert out.splitlines()[-1] == "1 error in 3 files"
    # `--params` names the one file to check instead
    assert run(capsys, "check", "pkg", "--params", "pkg/sites/a-good.toml") == (
        0,
        "no problems in 2 files\n",
        "",
    )


def test_the_shipped_package_checks_its_site_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--strict", str(REPO / "rules"))
    sites = len(list((REPO / "rules" / "sites").glob("*.toml")))
    rules = len(list((REPO / "rules").glob("*.rules")))
    assert sites >= 1
    assert (code, out) == (0, f"no problems in {rules + sites} files\n")


# --- 4. `hpdsl diff` of site values ------------------------------------------------------------


def test_diff_describes_a_changed_site_value(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "old.toml").write_text('[Loop]\nband_low = "3C"\ncool_above = "24C"\n', encoding="utf-8")
    (in_tmp / "new.toml").write_text('[Loop]\nband_low = "1C"\nheat_below = "14C"\n', encoding="utf-8")
    code, out, _ = run(
        capsys, "diff", "pkg", "pkg", "--old-params", "old.toml", "--new-params", "new.toml", "--exit-code"
    )
    assert code == 1
    assert out.splitlines() == [
        "site values of program Loop",
        "  parameter `band_low`: site value `3C` -> `1C` (lowered by 2 K)  [new.toml:2]",
        "  parameter `cool_above`: no longer set by the site: the default `21C`, was `24C` (lowered by 3 K)"
        "  [was old.toml:3]",
        "  parameter `heat_below`: set by the site to `14C`, was the default `15C` (lowered by 1 K)"
        "  [new.toml:3]",
        "",
        "3 changes: 3 in behaviour",
    ]


def test_diff_with_one_site_file_on_both_sides_sees_only_the_rules(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "site.toml").write_text('[Loop]\nband_low = "3C"\n', encoding="utf-8")
    code, out, _ = run(capsys, "diff", "pkg", "pkg", "--params", "site.toml", "--exit-code")
    assert (code, out) == (0, "no change in behaviour (layout and comments are not compared)\n")


def test_diff_refuses_a_site_file_that_does_not_check(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "bad.toml").write_text('[Loop]\nband_low = "18C"\n', encoding="utf-8")
    code, _, err = run(capsys, "diff", "pkg", "pkg", "--new-params", "bad.toml")
    assert code == 1
    assert "bad.toml:2:12: error: `require band_order` does not hold" in err
    assert "NEW has errors, nothing compared" in err


def test_diff_of_the_shipped_site_file_against_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    rules = str(REPO / "rules")
    site = str(REPO / "rules" / "sites" / "ground-source-example.toml")
    code, out, _ = run(capsys, "diff", rules, rules, "--new-params", site, "--format", "markdown")
    assert code == 0
    assert "### site values of program `EquipmentProtection`" in out
    assert (
        "- parameter `low_loop_temp_limit`: set by the site to `3C`, was the default `5C` (lowered by 2 K)"
        in out
    )


# --- 6. scenarios and site files ----------------------------------------------------------------

SCENARIOS = """
scenario band_alarm_above_15C "Out of band above the default 15C"
    program Loop
    assumes band_high == 15C
    at 0 s
        set loop_temp = 16C
        expect out_of_band == true
end

scenario band_alarm_pinned "Out of band above 15C, pinned"
    program Loop
    parameter band_high = 15C
    at 0 s
        set loop_temp = 16C
        expect out_of_band == true
end

scenario band_alarm_silent "Undeclared: depends on the default band_high"
    program Loop
    at 0 s
        set loop_temp = 16C
        expect out_of_band == true
end
"""


@pytest.fixture
def with_scenarios(in_tmp: Path) -> Path:
    (in_tmp / "pkg" / "loop.scenario").write_text(textwrap.dedent(SCENARIOS).lstrip(), encoding="utf-8")
    (in_tmp / "site.toml").write_text('[Loop]\nband_high = "20C"\n', encoding="utf-8")
    return in_tmp


def test_scenarios_pass_with_the_defaults(with_scenarios: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", "pkg")
    assert code == 0 and out.startswith("3 scenarios: 3 passed")


def test_a_site_file_skips_what_it_changes_and_explains_an_undeclared_premise(
    with_scenarios: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "test", "pkg", "--params", "site.toml")
    assert code == 1
    lines = out.splitlines()
    assert (
        "SKIP pkg/loop.scenario::band_alarm_above_15C: assumes `Loop.band_high` == 15C, which the site file"
        " sets to 20C (site.toml:2)"
    ) in lines
    assert not any("band_alarm_pinned" in line for line in lines)  # pinned: it runs, and passes
    assert "FAIL pkg/loop.scenario::band_alarm_silent - Undeclared: depends on the default band_high" in lines
    assert (
        "  pkg/loop.scenario:17:10: with the site file only: it passes with the rules' defaults:"
        " it depends on what the site file sets, `Loop.band_high` (site.toml:2); if the scenario is written"
        " for the default, state it with `assumes`"
    ) in lines
    assert lines[-1].startswith("3 scenarios: 1 passed, 1 failed, 1 skipped")


def test_an_assumption_the_rules_no_longer_meet_fails(
    with_scenarios: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = with_scenarios / "pkg" / "loop.scenario"
    scenarios.write_text(
        scenarios.read_text().replace("assumes band_high == 15C", "assumes band_high == 14C")
    )
    code, out, _ = run(capsys, "test", "pkg")
    assert code == 1
    assert (
        "  pkg/loop.scenario:1:10: assumes `Loop.band_high` == 14C, but the scenario runs with 15C:"
        " update the `assumes` line, or pin the value with `parameter`"
    ) in out.splitlines()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    assumes band_high < 15C\n", "`assumes` states the value a parameter has: `==`, not `<`"),
        (
            "    assumes loop_temp == 15C\n",
            "`Loop.loop_temp` is an input, not a parameter",
        ),
        ("    assumes band_high == 15 kW\n", "`assumes Loop.band_high`"),
        (
            "    assumes band_high == 15C\n    parameter band_high = 15C\n",
            "both sets and assumes `Loop.band_high`",
        ),
    ],
)
def test_what_an_assumption_may_not_be(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    text = "scenario s\n    program Loop\n" + line + "    at 0 s\n        expect out_of_band == false\nend\n"
    (in_tmp / "pkg" / "s.scenario").write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "test", "pkg")
    assert code == 1
    assert message in out


def test_junit_marks_a_skipped_scenario(with_scenarios: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "test", "pkg", "--params", "site.toml", "--junit", "report.xml")
    xml = (with_scenarios / "report.xml").read_text(encoding="utf-8")
    assert '<skipped message="assumes `Loop.band_high` == 15C, which the site file sets to 20C' in xml
    assert 'skipped="1"' in xml


def test_the_shipped_scenarios_pass_or_skip_with_the_example_site(capsys: pytest.CaptureFixture[str]) -> None:
    site = REPO / "rules" / "sites" / "ground-source-example.toml"
    code, out, _ = run(capsys, "test", str(REPO / "rules"), "--params", str(site))
    summary = out.splitlines()[-1]
    assert code == 0, out
    assert " failed" not in summary and " skipped" in summary
    assert not any(line.startswith("FAIL") for line in out.splitlines())


def _random_site(rng: random.Random, package: ir.Package) -> str:
    """A site file setting 2-8 parameters anywhere in their ranges (what a careless site might set)."""
    enums = {e.name: e.members for e in package.enums}
    parameters = [(p.name, v) for p in package.programs for v in p.of_role("parameter")]
    tables: dict[str, list[str]] = {}
    for program, variable in rng.sample(parameters, rng.randint(2, 8)):
        kind, unit = variable.type.kind, variable.type.unit or ""
        if kind == "enum":
            assert variable.type.enum is not None
            text = f'"{rng.choice(enums[variable.type.enum])}"'
        elif kind == "bool":
            text = rng.choice(["true", "false"])
        else:
            assert isinstance(variable.low, ir.Literal_) and isinstance(variable.high, ir.Literal_)
            low, high = float(variable.low.value), float(variable.high.value)
            number = rng.uniform(low, high) if kind == "real" else rng.randint(int(low), int(high))
            text = f'"{number} {unit}"' if unit else str(number)
        tables.setdefault(program, []).append(f"{variable.name} = {text}")
    return "".join(f"[{program}]\n" + "\n".join(lines) + "\n" for program, lines in tables.items())


def test_random_site_files_never_fail_the_shipped_scenarios() -> None:
    """Whatever a valid site file sets, a shipped scenario passes, or is skipped because it states
    the value it is written for: the `assumes` lines are complete for these draws."""
    report = Report()
    compiled = compile_package([REPO / "rules"], report)
    assert compiled is not None
    files = discover([REPO / "rules"])
    scenarios = [(file, scenario) for file in files for scenario in parse_file(file, report)]
    rng = random.Random(2026)
    tried = 0
    while tried < 6:
        text = _random_site(rng, compiled.ir_package)
        site_ = site.check(SourceFile("random.toml", text), compiled.ir_package, compiled.modules)
        if not site_.ok:  # a draw that breaks a `require` is refused before anything runs
            assert all(d.code == "constraint" for d in site_.diagnostics), site_.diagnostics
            continue
        tried += 1
        for file, scenario in scenarios:
            outcome = run_scenario(compiled, scenario, site_, Report(), file.parent)
            assert outcome is not None and not outcome.failed, (text, scenario.name, outcome)


def test_an_infinite_whole_number_is_a_site_value_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tests/fuzz.py: `inf` for an int parameter raised OverflowError."""
    monkeypatch.setenv("NO_COLOR", "1")
    site_file = tmp_path / "site.toml"
    site_file.write_text("[SupervisoryAlarms]\ndefrost_timeout_escalation = inf\n", encoding="utf-8")
    code, out, err = run(capsys, "check", str(REPO / "rules"), "--params", str(site_file))
    assert (code, err) == (1, "")
    assert headlines(out) == [
        f"{site_file}:2:30: error: `SupervisoryAlarms.defrost_timeout_escalation`:"
        " `inf` is not a whole number [site-value]"
    ]
