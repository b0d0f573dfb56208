"""The language server's analysis (hpdsl/tools/lsp/index.py): definitions, references, hover, completion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hpdsl.base.source import SourceFile, Span
from hpdsl.check.checker import CheckedPackage, check_package
from hpdsl.check.package import load_paths
from hpdsl.language import nodes as n
from hpdsl.language.parser import keywords, parse_source
from hpdsl.tools.lsp.index import PackageIndex, build_index, complete, outline, program_at, unit_symbols

RULES = Path(__file__).resolve().parent.parent / "rules"

# A small package whose names are counted by hand in the tests below.
PLANT = """\
requirement H1 "Heat when cold"
requirement H2 "Never below the floor"

enum Mode (Off, Heat) "What the plant does."

program Source
    input outdoor_raw: C range -40C .. 60C fallback 10C "Raw sensor."
    output outdoor: C = 10C "Outdoor air, after the fallback." cites H2
    rule copy
        outdoor = outdoor_raw
    end
end
"""

CONTROL = '''\
program Control "Heats when cold." cites H1
    input outdoor: C from Source.outdoor
    parameter heat_below: C = 15C range 5C .. 20C
        """Heating starts below this.
        Second line of the documentation."""
        cites H1, H2
    output mode: Mode = Mode.Off
    output capacity: % = 0 %
    event switched "A change of mode."
        to: Mode
    end
    machine cycle
        initial state Idle
            when outdoor < heat_below -> Running
        end
        state Running
            entry
                log switched(to: Heat)
            end
            after 10 min -> Idle
        end
    end
    rule decide cites H1
        if cycle == Running and cycle.time_in_state > 1 min then
            mode = Heat
            capacity = limit(outdoor).share
        else
            mode = Mode.Off
        end
    end
    table limit(t: C range -40C .. 60C)
        | t           | share |
        | < 0C        | 100 % |
        | >= 0C       | 50 %  |
    end
end
'''


def _checked(files: dict[str, str]) -> tuple[CheckedPackage, dict[str, SourceFile], PackageIndex]:
    sources = {name: SourceFile(name, text) for name, text in files.items()}
    package, diagnostics = check_package(list(sources.values()))
    assert package is not None, diagnostics
    return package, sources, build_index(package, sources)


@pytest.fixture(scope="module")
def small() -> tuple[CheckedPackage, dict[str, SourceFile], PackageIndex]:
    return _checked({"pkg/plant.rules": PLANT, "pkg/control.rules": CONTROL})


@pytest.fixture(scope="module")
def shipped() -> tuple[CheckedPackage, dict[str, SourceFile], PackageIndex]:
    loaded = load_paths([RULES])
    return _checked({name: source.text for name, source in loaded.sources.items()})


def _at(
    sources: dict[str, SourceFile], file: str, needle: str, word: str | None = None, nth: int = 1
) -> tuple[int, int]:
    """The 1-based position of `word` inside the nth line-local occurrence of `needle` in a file."""
    text = sources[file].text
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    start += needle.index(word) if word else 0
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column


def _word_at(sources: dict[str, SourceFile], span: Span) -> str:
    return sources[span.file].text_of(span)


# ------------------------------------------------------------------------- definitions
DEFINITIONS = [
    # (file, text around the name, the name, file of the definition, text starting at the definition)
    ("pkg/control.rules", "from Source.outdoor", "outdoor", "pkg/plant.rules", "outdoor: C = 10C"),
    ("pkg/control.rules", "from Source.outdoor", "Source", "pkg/plant.rules", "Source\n"),
    ("pkg/control.rules", "cites H1, H2", "H2", "pkg/plant.rules", 'H2 "Never'),
    ("pkg/control.rules", "output mode: Mode", "Mode", "pkg/plant.rules", "Mode (Off"),
    ("pkg/control.rules", "= Mode.Off", "Off", "pkg/plant.rules", "Off, Heat"),
    ("pkg/control.rules", "to: Heat", "Heat", "pkg/plant.rules", "Heat) "),
    ("pkg/control.rules", "-> Running", "Running", "pkg/control.rules", "Running\n            entry"),
    ("pkg/control.rules", "-> Idle", "Idle", "pkg/control.rules", "Idle\n            when"),
    ("pkg/control.rules", "cycle == Running", "Running", "pkg/control.rules", "Running\n            entry"),
    ("pkg/control.rules", "cycle == Running", "cycle", "pkg/control.rules", "cycle\n"),
    ("pkg/control.rules", "log switched(to", "switched", "pkg/control.rules", 'switched "A change'),
    ("pkg/control.rules", "switched(to:", "to", "pkg/control.rules", "to: Mode"),
    ("pkg/control.rules", "limit(outdoor).share", "limit", "pkg/control.rules", "limit(t:"),
    ("pkg/control.rules", "limit(outdoor).share", "share", "pkg/control.rules", "share |"),
    ("pkg/control.rules", "| t  ", "t", "pkg/control.rules", "t: C range"),
    ("pkg/control.rules", "            mode = Heat", "mode", "pkg/control.rules", "mode: Mode"),
    ("pkg/control.rules", "outdoor < heat_below", "heat_below", "pkg/control.rules", "heat_below: C"),
    ("pkg/control.rules", "outdoor < heat_below", "outdoor", "pkg/control.rules", "outdoor: C from"),
    ("pkg/plant.rules", "outdoor = outdoor_raw", "outdoor_raw", "pkg/plant.rules", "outdoor_raw: C"),
]


@pytest.mark.parametrize(("file", "needle", "word", "def_file", "def_text"), DEFINITIONS)
def test_definition_of_every_kind_of_name(
    small: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
    file: str,
    needle: str,
    word: str,
    def_file: str,
    def_text: str,
) -> None:
    _, sources, index = small
    line, column = _at(sources, file, needle, word)
    span = index.definition(file, line, column)
    assert span is not None, f"no definition for {word!r} in {needle!r}"
    assert span.file == def_file
    expected = _at(sources, def_file, def_text)
    assert (span.line, span.column) == expected
    assert _word_at(sources, span) == word
    # The cursor just after the name names it too (where editors put it after typing).
    assert index.definition(file, line, column + len(word)) == span


def test_references_across_files_count_every_use(
    small: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    _, sources, index = small
    # `outdoor` of Source: its declaration, the rule assigning it, the wiring in Control.
    line, column = _at(sources, "pkg/plant.rules", "output outdoor", "outdoor")
    spans = index.references("pkg/plant.rules", line, column)
    assert [(s.file, _word_at(sources, s)) for s in spans] == [
        ("pkg/plant.rules", "outdoor"),  # the declaration first
        ("pkg/control.rules", "outdoor"),
        ("pkg/plant.rules", "outdoor"),
    ]
    assert len(index.references("pkg/plant.rules", line, column, include_declaration=False)) == 2
    # H1: the declaration and three citations (the program, the parameter, the rule).
    line, column = _at(sources, "pkg/plant.rules", "H1")
    assert len(index.references("pkg/plant.rules", line, column)) == 4
    # The enum member Heat: declaration, bare in the log and the rule.
    line, column = _at(sources, "pkg/plant.rules", "Heat)")
    assert len(index.references("pkg/plant.rules", line, column)) == 3


def test_hover_of_a_parameter_gives_unit_default_range_doc_and_cites(
    small: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    _, sources, index = small
    line, column = _at(sources, "pkg/control.rules", "outdoor < heat_below", "heat_below")
    answer = index.hover("pkg/control.rules", line, column)
    assert answer is not None
    text, span = answer
    assert _word_at(sources, span) == "heat_below"
    assert "**parameter** `heat_below`" in text
    assert "temperature in C" in text
    assert "default `15C`" in text
    assert "range `5C .. 20C`" in text
    # The documentation dedented, as written.
    assert "Heating starts below this.\nSecond line of the documentation." in text
    assert "`H1`: Heat when cold" in text and "`H2`: Never below the floor" in text
    assert "in program `Control`" in text


def test_hover_of_requirements_units_members_and_builtins(
    small: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    _, sources, index = small

    def hover(file: str, needle: str, word: str | None = None) -> str:
        answer = index.hover(file, *_at(sources, file, needle, word))
        assert answer is not None, needle
        return answer[0]

    assert "Heat when cold" in hover("pkg/control.rules", "cites H1", "H1")
    assert "cited 3 times" in hover("pkg/plant.rules", "H1")
    assert "**unit** `min`: time" in hover("pkg/control.rules", "10 min")
    assert "**unit** `%`" in hover("pkg/control.rules", "capacity: %", "%")
    assert "**member** `Off` of enumeration `Mode`" in hover("pkg/control.rules", "= Mode.Off", "Off")
    assert "states: `Idle`, `Running`" in hover("pkg/control.rules", "machine cycle", "cycle")
    assert "time_in_state" in hover("pkg/control.rules", "cycle.time_in_state", "time_in_state")
    assert "**column** `share` of table `limit`" in hover("pkg/control.rules", ".share", "share")
    assert "from `Source.outdoor`" in hover("pkg/control.rules", "input outdoor", "outdoor")
    assert index.hover("pkg/control.rules", 1, 200) is None


def test_every_resolved_name_of_the_shipped_package_leads_to_its_declaration(
    shipped: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    package, _, index = shipped
    checked = 0
    for module in package.modules:
        for expr in _names(module):
            symbol = package.resolved.get(id(expr))
            if symbol is None:
                continue
            assert index.definition(expr.span.file, expr.span.line, expr.span.column) == symbol.span, expr
            checked += 1
    assert checked > 200  # the shipped package reads about 240 names
    # Every citation leads to its requirement.
    for name, spans in package.citations.items():
        requirement = package.requirements[name]
        for span in spans:
            assert index.definition(span.file, span.line, span.column) == requirement.name.span
    # And every occurrence designates a known target.
    for found in index.occurrences.values():
        for occurrence in found:
            assert occurrence.key in index.targets


def _names(module: n.Module) -> list[n.Name]:
    """Every Name node of a module, found by walking the dataclass fields."""
    found: list[n.Name] = []
    stack: list[object] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Name):
            found.append(node)
        if isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, n.Node):
            stack.extend(getattr(node, f) for f in node.__dataclass_fields__ if f != "span")
    return found


def test_shipped_wiring_and_cites_lead_to_the_other_files(
    shipped: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    _, sources, index = shipped
    line, column = _at(sources, "rules/changeover.rules", "from PlantSignals.outdoor_temp", "outdoor_temp")
    span = index.definition("rules/changeover.rules", line, column)
    assert span is not None and span.file == "rules/plant.rules"
    assert sources[span.file].line(span.line).lstrip().startswith("output outdoor_temp")


# ------------------------------------------------------------------------- completion
def test_completion_offers_units_after_a_number(
    small: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    package = small[0]
    for typed in ("    parameter x: C = 21", "    parameter x: C = 21 ", "    output y: kW = 2.5k"):
        labels = [e.label for e in complete(package, typed, 1, len(typed) + 1)]
        assert labels == unit_symbols()
        assert {"C", "K", "kW", "min", "%"} <= set(labels)
    # A digit inside a name or a time of day is not a number.
    for typed in ("    stage_1", "    monday 07:0"):
        labels = [e.label for e in complete(package, typed, 1, len(typed) + 1)]
        assert "kW" not in labels


def test_completion_after_an_owner_and_a_dot(
    small: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    package, sources, _ = small
    text = sources["pkg/control.rules"].text

    def after(typed: str) -> list[str]:
        # Typed at the end of the decide rule's first line, inside program Control.
        line, _ = _at(sources, "pkg/control.rules", "rule decide")
        lines = text.split("\n")
        lines.insert(line, "        " + typed)
        return [e.label for e in complete(package, "\n".join(lines), line + 1, len(typed) + 9)]

    assert after("x = Mode.") == ["Off", "Heat"]
    assert after("x = Mode.He") == ["Off", "Heat"]  # the editor filters by the prefix
    assert after("x = cycle.") == ["Idle", "Running", "time_in_state"]
    assert after("input y: C from Source.") == ["outdoor"]
    assert after("x = nothing.") == []


def test_completion_of_names_in_scope_and_keywords(
    small: tuple[CheckedPackage, dict[str, SourceFile], PackageIndex],
) -> None:
    package, sources, _ = small
    text = sources["pkg/control.rules"].text
    line, column = _at(sources, "pkg/control.rules", "            mode = Heat", "mode")
    entries = complete(package, text, line, column)
    labels = [e.label for e in entries]
    assert {
        "heat_below",
        "mode",
        "capacity",
        "cycle",
        "limit",
        "Mode",
        "Source",
        "Heat",
        "Running",
        "H1",
    } <= set(labels)
    assert "outdoor_raw" not in labels  # another program's input
    assert set(keywords()) <= set(labels)
    assert {"min", "max", "rising", "time_in_state"} <= set(labels)
    detail = next(e for e in entries if e.label == "heat_below")
    assert detail.kind == "parameter" and "temperature" in detail.detail
    # After `:` comes a type.
    types = [e.label for e in complete(package, "    input z: ", 1, 14)]
    assert {"bool", "int", "real", "duration", "Mode", "C", "kW"} <= set(types)


def test_completion_without_a_checked_package_still_offers_keywords_and_units() -> None:
    assert "program" in [e.label for e in complete(None, "pro", 1, 4)]
    assert "kW" in [e.label for e in complete(None, "x = 5", 1, 6)]
    assert complete(None, "x = Mode.", 1, 10) == []


def test_program_at_finds_the_enclosing_program() -> None:
    text = "enum A (X)\nprogram One\n  var a: bool\nend\nprogram Two\n  var b: bool\nend\n"
    assert program_at(text, 1) is None
    assert program_at(text, 3) == "One"
    assert program_at(text, 6) == "Two"


# ------------------------------------------------------------------------- outline
def test_outline_nests_declarations_in_programs_and_states_in_machines() -> None:
    result = parse_source(SourceFile("pkg/control.rules", CONTROL))
    assert result.module is not None
    (program,) = outline(result.module)
    assert (program.name, program.kind) == ("Control", "program")
    assert [c.name for c in program.children] == [
        "outdoor",
        "heat_below",
        "mode",
        "capacity",
        "switched",
        "cycle",
        "decide",
        "limit",
    ]
    machine = next(c for c in program.children if c.name == "cycle")
    assert [(s.name, s.detail) for s in machine.children] == [("Idle", "initial state"), ("Running", "state")]
    parameter = next(c for c in program.children if c.name == "heat_below")
    assert parameter.detail == "parameter: C"
    # The selection is the name; the whole range covers the declaration.
    assert CONTROL.split("\n")[parameter.selection.line - 1][parameter.selection.column - 1 :].startswith(
        "heat_below"
    )
    assert parameter.span.line <= parameter.selection.line < parameter.span.end_line


def test_a_half_typed_name_is_not_indexed_but_the_rest_is() -> None:
    broken = CONTROL.replace("outdoor < heat_below", "outdoor < heat_bel")
    sources = {
        "pkg/plant.rules": SourceFile("pkg/plant.rules", PLANT),
        "pkg/control.rules": SourceFile("pkg/control.rules", broken),
    }
    package, diagnostics = check_package(list(sources.values()))
    assert package is not None and "undefined-name" in [d.code for d in diagnostics]
    index = build_index(package, sources)
    line, column = _at(sources, "pkg/control.rules", "heat_bel ")
    assert index.definition("pkg/control.rules", line, column) is None
    line, column = _at(sources, "pkg/control.rules", "outdoor < heat_bel")
    assert index.definition("pkg/control.rules", line, column) is not None


def test_unit_symbols_match_the_units_module() -> None:
    from hpdsl.language import units

    assert sorted(unit_symbols()) == sorted(units.SIMPLE_SYMBOLS)
    assert all(units.lookup(symbol) is not None for symbol in unit_symbols())
    assert re.fullmatch(r"[A-Za-z_%°0-9]+", "".join(unit_symbols()))
