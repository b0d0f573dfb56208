"""`hpdsl doc`: the sequence-of-operations document of the shipped rules and of small packages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from hpdsl.check.checker import check_package
from hpdsl.check.package import load_paths
from hpdsl.cli import main
from hpdsl.language import nodes as n
from hpdsl.language.types import BOOL, EnumType, QuantityType
from hpdsl.language.units import lookup
from hpdsl.tools.doc import bacnet as doc_bacnet
from hpdsl.tools.doc import command as doc
from hpdsl.tools.doc import render as doc_render
from hpdsl.tools.doc import svg as doc_svg
from hpdsl.tools.doc.model import DiagramEdge, StateDiagram
from hpdsl.tools.testing import trace

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules"


@pytest.fixture(scope="module")
def shipped() -> dict[str, str]:
    result = doc.build([RULES])
    assert result.ok, [str(d.message) for d in result.diagnostics if d.is_error]
    return result.files


@pytest.fixture(scope="module")
def modules() -> list[n.Module]:
    checked, _found = check_package(list(load_paths([RULES]).sources.values()))
    assert checked is not None
    return checked.modules


def _programs(modules: list[n.Module]) -> list[n.Program]:
    return [item for m in modules for item in m.items if isinstance(item, n.Program)]


def _section(markdown: str, anchor: str) -> str:
    """The Markdown from the heading with this anchor to the next heading of the same or a higher level."""
    start = markdown.index(f'<a id="{anchor}"></a>')
    heading = re.compile(r"^(#+) ", re.M).search(markdown, start)
    assert heading is not None
    level = len(heading.group(1))
    following = re.compile(rf"^#{{1,{level}}} ", re.M).search(markdown, heading.end())
    return markdown[start : following.start() if following else len(markdown)]


def _rows(section: str) -> list[list[str]]:
    """The cells of every table row of a Markdown section (pipes escaped as \\| stay inside cells)."""
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


# --- What the document holds ---------------------------------------------------------------


def test_every_program_and_construct_appears(shipped: dict[str, str], modules: list[n.Module]) -> None:
    md, page = shipped["rules.md"], shipped["rules.html"]
    programs = _programs(modules)
    assert programs
    for program in programs:
        name = program.name.text
        anchor = f"program-{name.lower()}"
        assert f'<a id="{anchor}"></a>' in md and f'id="{anchor}"' in page
        section = _section(md, anchor)
        for item in program.items:
            if isinstance(item, (n.Rule, n.Machine, n.Alarm, n.Table, n.Curve, n.Schedule, n.Hysteresis)):
                shown = (
                    item.name.text.replace("_", "\\_")
                    if isinstance(item, (n.Rule, n.Machine))
                    else item.name.text
                )
                assert shown in section, f"{name}: {type(item).__name__} {item.name.text} missing"
    package_functions = [i for m in modules for i in m.items if isinstance(i, (n.Table, n.Curve))]
    assert package_functions
    for item in package_functions:
        kind = "table" if isinstance(item, n.Table) else "curve"
        anchor = f"{kind}-{item.name.text.replace('_', '-')}"
        section = _section(md, anchor)
        rows = _rows(section)
        count = len(item.rows) if isinstance(item, n.Table) else len(item.points)
        assert len(rows) == count + 1  # the header and one line per row or point
        assert f'id="{anchor}"' in page


def test_points_list_has_every_field_input_and_output(
    shipped: dict[str, str], modules: list[n.Module]
) -> None:
    md = shipped["rules.md"]
    field_rows = {(r[0], r[1]) for r in _rows(_section(md, "field-inputs"))[1:]}
    output_rows = {(r[0], r[1]) for r in _rows(_section(md, "outputs"))[1:]}
    internal_rows = {(r[0], r[1]) for r in _rows(_section(md, "internal-inputs"))[1:]}
    parameter_rows = {(r[0], r[1]) for r in _rows(_section(md, "parameters"))[1:]}
    expected: dict[str, set[tuple[str, str]]] = {
        "field": set(),
        "output": set(),
        "wired": set(),
        "parameter": set(),
    }
    for program in _programs(modules):
        for decl in program.items:
            if not isinstance(decl, n.Declaration):
                continue
            key = (f"`{program.name.text}`", f"`{decl.name.text}`")
            if decl.kind == "input":
                expected["wired" if decl.wiring is not None else "field"].add(key)
            elif decl.kind in ("output", "parameter"):
                expected[decl.kind].add(key)
    assert expected["field"] and field_rows == expected["field"]
    assert output_rows == expected["output"]
    assert internal_rows == expected["wired"]
    assert parameter_rows == expected["parameter"]


def test_alarm_table_has_every_alarm(shipped: dict[str, str], modules: list[n.Module]) -> None:
    alarm_section = _section(shipped["rules.md"], "alarms")
    table = _rows(alarm_section.split('<a id="sensor-faults">')[0])
    listed = {(row[0], row[1]) for row in table[1:]}
    expected = {
        (f"`{p.name.text}`", f"`{a.name.text}`")
        for p in _programs(modules)
        for a in p.items
        if isinstance(a, n.Alarm)
    }
    assert expected and listed == expected
    latching = next(r for r in table if r[1] == "`low_refrigerant_pressure`")
    assert "latching, reset by `alarm_reset`" in latching[5]
    assert latching[2] == "`compressor_running and suction_pressure < low_pressure_limit`"
    assert latching[4] == "critical" and latching[3] == "`60 s`"


def test_traceability_matrix_follows_the_trace(shipped: dict[str, str]) -> None:
    traced = trace.trace_paths([RULES])
    md, page = shipped["rules.md"], shipped["rules.html"]
    rows = {row[0]: row for row in _rows(_section(md, "traceability"))[1:]}
    assert len(rows) == len(traced.requirements) > 0
    for requirement in traced.requirements:
        anchor = f"req-{requirement.name.lower()}"
        row = rows[f'<a id="{anchor}"></a>{requirement.name}']
        assert f'<span id="{anchor}">' in page
        for citation in requirement.implemented_by:
            assert f"`rules/{Path(citation.span.file).name}:{citation.span.line}`" in row[2]
        for citation in requirement.tested_by:
            assert citation.what.replace("_", "\\_") in row[3]


def test_every_requirement_link_resolves(shipped: dict[str, str]) -> None:
    md = shipped["rules.md"]
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
    links = set(re.findall(r"\]\(#([^)]+)\)", md))
    assert links and links <= anchors


# --- BACnet suggestions --------------------------------------------------------------------


def test_bacnet_objects_by_type_and_use() -> None:
    celsius = QuantityType(lookup("C"))  # type: ignore[arg-type]
    assert doc_bacnet.object_for(celsius, doc_bacnet.FIELD_INPUT).object_type == "AI"
    assert doc_bacnet.object_for(celsius, doc_bacnet.FIELD_INPUT).units == "degrees-celsius (62)"
    kelvin = QuantityType(lookup("K"))  # type: ignore[arg-type]
    assert doc_bacnet.object_for(kelvin, doc_bacnet.SETTING).units == "delta-degrees-kelvin (121)"
    assert doc_bacnet.object_for(BOOL, doc_bacnet.COMMAND).object_type == "BO"
    assert doc_bacnet.object_for(BOOL, doc_bacnet.COMPUTED).object_type == "BV"
    mode = EnumType("SystemMode", ("Heating", "Cooling"))
    command = doc_bacnet.object_for(mode, doc_bacnet.COMMAND)
    assert command.object_type == "MSO" and command.describe_states() == "1 Heating, 2 Cooling"
    assert doc_bacnet.object_for(mode, doc_bacnet.SETTING).object_type == "MSV"
    odd = doc_bacnet.object_for(QuantityType(lookup("kJ/l/K")), doc_bacnet.SETTING)  # type: ignore[arg-type]
    assert odd.units == "no-units (95)" and "kJ/l/K" in odd.unit_note


def test_bacnet_columns_of_the_shipped_points(shipped: dict[str, str]) -> None:
    md = shipped["rules.md"]
    field = {row[1]: row for row in _rows(_section(md, "field-inputs"))[1:]}
    assert field["`outdoor_temp_sensor`"][5:7] == ["AI", "degrees-celsius (62)"]
    assert field["`compressor_running_status`"][5:7] == ["BI", ""]
    outputs = {(row[0], row[1]): row for row in _rows(_section(md, "outputs"))[1:]}
    # read by other programs: a value; read by none: a command
    assert outputs[("`Changeover`", "`system_mode`")][5] == "MSV<br>1 Heating, 2 Cooling"
    assert outputs[("`Sources`", "`loop_heat_injection`")][5] == "BO"
    assert outputs[("`CompressorStaging`", "`stage_1_speed`")][5].startswith("MSO<br>1 Off, 2 VariableSpeed")
    parameters = {(row[0], row[1]): row for row in _rows(_section(md, "parameters"))[1:]}
    assert parameters[("`EquipmentProtection`", "`low_pressure_limit`")][5:7] == ["AV", "bars (55)"]


# --- State machines ------------------------------------------------------------------------


def test_mermaid_declares_every_state_and_transition(
    shipped: dict[str, str], modules: list[n.Module]
) -> None:
    # Each diagram follows the heading of its machine.
    found = re.findall(r"#### State machine (\S+)\n.*?```mermaid\n(.*?)\n```", shipped["rules.md"], re.S)
    blocks = {name.replace("\\_", "_"): block for name, block in found}
    machines = [m for p in _programs(modules) for m in p.items if isinstance(m, n.Machine)]
    assert machines and len(blocks) == len(found) == len(machines)
    for machine in machines:
        block = blocks[machine.name.text]
        lines = block.splitlines()
        assert lines[0] == "stateDiagram-v2"
        declared = set(re.findall(r'^    state "(\w+)" as (\w+)$', block, re.M))
        assert {a for a, b in declared} == {s.name.text for s in machine.states}
        names = {b for _, b in declared}
        arrows = re.findall(r"^    (\S+) --> (\w+)(?:: (.*))?$", block, re.M)
        assert arrows[0][:2] == ("[*]", next(s.name.text for s in machine.states if s.initial))
        for source, target, label in arrows[1:]:
            assert source in names and target in names
            assert label and not set(re.sub(r"#\d+;", "", label)) & set(":;<>{}\"'#")  # entity codes only
        assert len(arrows) - 1 == sum(len(s.transitions) for s in machine.states)


class _Balance(HTMLParser):
    VOID: ClassVar[set[str]] = {
        "meta",
        "br",
        "wbr",
        "hr",
        "img",
        "input",
        "link",
        "circle",
        "line",
        "rect",
        "path",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag == "svg":
            self.svgs += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "marker" or tag == "path":
            return
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def test_html_is_balanced_self_contained_and_draws_each_machine(
    shipped: dict[str, str], modules: list[n.Module]
) -> None:
    page = shipped["rules.html"]
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.problems == [] and parser.stack == []
    machines = [m for p in _programs(modules) for m in p.items if isinstance(m, n.Machine)]
    assert parser.svgs == len(machines) == page.count("<svg ")
    assert len(parser.ids) == len(set(parser.ids))
    assert {h[1:] for h in parser.hrefs if h.startswith("#")} <= set(parser.ids)
    assert not any(h.startswith(("http:", "https:", "//")) for h in parser.hrefs)
    assert "<script" not in page and "<link" not in page


def test_layers_and_arrows_of_a_diagram() -> None:
    diagram = StateDiagram(
        "P.m",
        ("A", "B", "C", "D"),
        "A",
        (
            DiagramEdge("A", "B", ("T1 when x",)),
            DiagramEdge("A", "C", ("T2 when y",)),
            DiagramEdge("C", "D", ("T3 after 5 min",)),
            DiagramEdge("D", "A", ("T4 when z < 3C and w",)),
            DiagramEdge("B", "B", ("T5 when again",)),
        ),
    )
    assert doc_svg.layers(diagram) == [["A"], ["B", "C"], ["D"]]
    drawn = doc_svg.svg(diagram)
    assert drawn.count("<rect ") == 4
    assert drawn.count("<line ") == 1 + 3  # the start arrow and three arrows down
    assert len(re.findall(r'<path d="M[^"]*" class="edge"', drawn)) == 2  # D back to A, and B to itself
    assert "T4 when z &lt; 3C and w" in drawn
    assert doc_svg.mermaid_label("a < b: c") == "a #60; b#58; c"


# --- The command ---------------------------------------------------------------------------

SMALL = """
requirement C1 "OutdoorTemp > 21C selects Cooling"

enum SystemMode (Heating, Cooling) "Operating mode <of the | plant>"

program Changeover "Mode changeover: <script>alert(1)</script> | keep" cites C1
    input outdoor_temp: C range -40C .. 60C fallback 10C "Outdoor air temperature"
    output system_mode: SystemMode = Heating "Selected mode"

    machine mode cites C1
        initial state Heat
            entry system_mode = Heating end
            when outdoor_temp > 21C for 10 min -> Cool
        end
        state Cool
            entry system_mode = Cooling end
            when outdoor_temp < 15C -> Heat
        end
    end
end
"""


def _small(folder: Path, text: str = SMALL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "changeover.rules").write_text(text, encoding="utf-8")
    return folder


def test_text_is_escaped_in_both_formats(tmp_path: Path) -> None:
    result = doc.build([_small(tmp_path / "plant")])
    assert result.ok
    page, md = result.files["plant.html"], result.files["plant.md"]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; | keep" in page
    assert "\\<script\\>" in md
    enum_rows = _rows(_section(md, "enumerations"))
    assert all(len(row) == 5 for row in enum_rows)  # the | in the description did not split the cell
    assert "Operating mode \\<of the \\| plant\\>" in enum_rows[1][2]
    assert "when outdoor_temp #62; 21C for 10 min" in md


def test_output_is_identical_from_any_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert main(["doc", "rules", "-o", str(tmp_path / "a")]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["doc", str(RULES), "-o", "b"]) == 0
    for name in ("rules.md", "rules.html"):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (elsewhere / "b" / name).read_bytes()
        assert str(REPO).encode() not in first and str(tmp_path).encode() not in first


def test_refuses_a_folder_with_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = _small(tmp_path / "plant")
    out = tmp_path / "out"
    out.mkdir()
    notes = out / "notes.md"
    notes.write_text("my notes\n", encoding="utf-8")
    assert main(["doc", str(rules), "-o", str(out)]) == 2
    assert "notes.md" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.md"]
    assert main(["doc", str(rules), "-o", str(out), "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["notes.md", "plant.html", "plant.md"]
    assert notes.read_text(encoding="utf-8") == "my notes\n"
    # its own files are no obstacle: writing again needs no --force
    (out / "plant.md").write_text(doc_render.MARKER + " stale\n", encoding="utf-8")
    notes.unlink()
    assert main(["doc", str(rules), "-o", str(out)]) == 0
    assert (out / "plant.md").read_text(encoding="utf-8").startswith("<!-- " + doc_render.MARKER)


def test_a_package_with_errors_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = _small(tmp_path / "plant", SMALL.replace("outdoor_temp > 21C", "outdoor_temp > 21 kW"))
    out = tmp_path / "out"
    assert main(["doc", str(broken), "-o", str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert re.search(r"changeover\.rules:\d+:\d+: error: .*\[unit-mismatch\]", err)


def test_site_values_replace_defaults(tmp_path: Path) -> None:
    site = RULES / "sites" / "ground-source-example.toml"
    result = doc.build([RULES], params=site)
    assert result.ok
    rows = {(r[0], r[1]): r for r in _rows(_section(result.files["rules.md"], "parameters"))[1:]}
    assert rows[("`Sources`", "`installed_source`")][3] == "`Ground` (site; default `Air`)"
    assert rows[("`AuxHeat`", "`design_outdoor_temp`")][3] == "`-12C` (site; default `-10C`)"
    assert rows[("`Changeover`", "`cooling_above`")][3] == "`21C`"
    bad = tmp_path / "bad.toml"
    bad.write_text('[Sources]\nloop_temp_min = "99C"\n', encoding="utf-8")
    assert main(["doc", str(RULES), "-o", str(tmp_path / "out"), "--params", str(bad)]) == 1
    assert not (tmp_path / "out").exists()
