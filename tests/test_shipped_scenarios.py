"""The shipped package's scenarios: they pass, they cover every requirement, and they bite.

`hpdsl test rules/` must pass; every requirement ID must be cited by a scenario
(`hpdsl trace`); and for every ID, a plausible mistake in the rule that implements it (a
mutant in `tests/data/mutants/*.toml`: a wrong threshold, a flipped comparison, a missing
condition) must make at least one of the scenarios citing that ID fail. A scenario that
passes whatever the rule does would not be a test.
"""

from __future__ import annotations

import re
import shutil
import tomllib
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from hpdsl.cli import main
from hpdsl.codegen.compiler import compile_paths
from hpdsl.compile.site import read
from hpdsl.tools.testing.runner import run_paths
from hpdsl.tools.testing.trace import trace_paths

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SCENARIOS = RULES / "scenarios"
MUTANTS = Path(__file__).resolve().parent / "data" / "mutants"
INVENTORY = RULES / "requirements.rules"


def document_ids() -> list[str]:
    """The requirement items of the source documents: the package's own inventory, read as text."""
    ids = re.findall(r"^requirement ([A-Z]\d) ", INVENTORY.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(ids) == 56 and len(set(ids)) == 56, ids
    return ids


@dataclass(frozen=True)
class Mutant:
    requirement: str
    file: str
    old: str
    new: str
    why: str
    table: str
    index: int

    @property
    def id(self) -> str:
        return f"{self.requirement}-{self.table}-{self.index}"


def mutants() -> list[Mutant]:
    found = []
    for path in sorted(MUTANTS.glob("*.toml")):
        entries = tomllib.loads(path.read_text(encoding="utf-8"))["mutant"]
        for index, entry in enumerate(entries, start=1):
            found.append(Mutant(table=path.stem, index=index, **entry))
    return found


MUTANT_LIST = mutants()


def test_the_shipped_scenarios_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "scenarios.xml"
    code = main(["test", str(RULES), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    suites = ElementTree.parse(junit).getroot()
    cases = suites.findall("./testsuite/testcase")
    assert len(cases) >= len(document_ids())
    assert not suites.findall(".//failure") and not suites.findall(".//error")


def test_every_requirement_is_implemented_and_tested() -> None:
    trace = trace_paths([RULES])
    assert trace.ok, [r.name for r in trace.uncovered + trace.untested] + [n for n, _ in trace.unknown]
    assert sorted(r.name for r in trace.requirements) == sorted(document_ids())
    assert trace.scenario_files >= 8


def test_every_contradiction_is_pinned_by_a_choice_scenario() -> None:
    """docs/requirements.md lists the choices; each has `choice_` scenarios citing its IDs."""
    trace = trace_paths([RULES])
    chosen = {r.name for r in trace.requirements if any("scenario choice_" in c.what for c in r.tested_by)}
    documented = [
        *("P2", "K1", "B1", "A4", "Q1", "F1", "D1", "D2", "D5"),
        *("D6", "D9", "L1", "L7", "M9", "Q5", "Q6", "S1"),
    ]
    for requirement in documented:
        assert requirement in chosen, f"no choice_ scenario pins the documented choice for {requirement}"


def test_every_requirement_has_a_mutant() -> None:
    assert {m.requirement for m in MUTANT_LIST} >= set(document_ids())


def test_the_example_site_files_check_clean() -> None:
    result = compile_paths([RULES], "python")
    assert result.package is not None
    for path in sorted((RULES / "sites").glob("*.toml")):
        assert read(path, result.package).diagnostics == [], path


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped rules without the scenarios, to mutate one file at a time."""
    folder = tmp_path_factory.mktemp("pristine") / "rules"
    shutil.copytree(RULES, folder, ignore=shutil.ignore_patterns("scenarios", "sites"))
    return folder


@pytest.mark.parametrize("mutant", MUTANT_LIST, ids=[m.id for m in MUTANT_LIST])
def test_a_wrong_rule_fails_its_scenarios(
    mutant: Mutant, pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From inside the copy, every mutant's files have the same names (`rules/alarms.rules`), so
    # the files a mutant leaves alone are parsed once for the whole run (hpdsl.language.parser).
    monkeypatch.chdir(tmp_path)
    rules = Path("rules")
    shutil.copytree(pristine, rules)
    target = rules / mutant.file
    text = target.read_text(encoding="utf-8")
    assert text.count(mutant.old) == 1, f"{mutant.file}: the mutated text must occur once: {mutant.old!r}"
    target.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
    report = run_paths([SCENARIOS], rules=[rules], cites=mutant.requirement)
    errors = [f"{d.span}: {d.message}" for d in report.diagnostics if d.is_error]
    assert not errors, f"the mutant does not compile cleanly: {errors}"
    assert report.outcomes, f"no scenario cites {mutant.requirement}"
    failed = [o.scenario.name for o in report.outcomes if not o.passed]
    assert failed, f"{mutant.requirement}: no scenario citing it fails when {mutant.why}"


@pytest.mark.parametrize(
    ("target", "dialect"),
    [("python", None), ("st", "iec"), ("st", "codesys"), ("st", "siemens"), ("plcopen", None)],
)
def test_the_package_compiles_to_every_target_without_a_warning(target: str, dialect: str | None) -> None:
    result = compile_paths([RULES], target, dialect=dialect)
    assert [f"{d.span}: {d.message}" for d in result.diagnostics] == []
    assert result.files
