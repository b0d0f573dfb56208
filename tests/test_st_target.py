"""The Structured Text and PLCopen XML targets: every dialect compiles, parses and validates.

Independent checks of the text itself: blark (a third-party TwinCAT ST parser) parses the
`codesys` and `iec` output and the Siemens output once its SCL surface syntax is rewritten
to plain ST (`scl_as_st`); the PLCopen XML validates against the TC6 v2.01 schema;
`stinterp` (tests/stinterp.py) loads the `iec` output with the strict rules MATIEC applies.
Behaviour is compared with the Python target in tests/test_st_equivalence.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytarget import compile_text
from stinterp import load, parse

from hpdsl.codegen.compiler import compile_paths

REPO = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "data" / "plcopen" / "tc6_xml_v201.xsd"  # see its README
GOLDEN = Path(__file__).resolve().parent / "data" / "golden"

# (target, dialect, file suffix) of every Structured Text flavour.
FLAVOURS = [
    ("st", "iec", ".iec.st"),
    ("st", "codesys", ".codesys.st"),
    ("st", "siemens", ".scl"),
    ("plcopen", None, ".xml"),
]


def scl_as_st(text: str) -> str:
    """Siemens SCL source rewritten to plain IEC ST, changing only surface syntax.

    Quoted block names lose their quotes, `#` before locals goes, block attributes, VERSION and
    BEGIN lines go, REGION lines and `//` comments become `(* *)` comments. Every statement,
    expression and declaration stays as generated, so what blark parses (and stinterp runs)
    is the Siemens logic.
    """
    out = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("{ S7_") or stripped.startswith("VERSION :") or stripped == "BEGIN":
            continue
        code, _, comment = line.partition("//")
        code = code.replace('"', "").replace("#", "")
        if code.strip().startswith("REGION "):
            code = code.replace("REGION ", "(* REGION ", 1) + " *)"
        elif code.strip() == "END_REGION":
            code = code.replace("END_REGION", "(* END_REGION *)")
        if re.match(r"\s*TYPE \w+\s*$", code):
            code = code.rstrip() + " :"
        line = code + (f"(* {comment.strip()} *)" if comment else "")
        out.append(line.rstrip())
    return "\n".join(out)


@pytest.fixture(scope="module")
def shipped() -> dict[str, dict[str, str]]:
    """The shipped package in every flavour: `iec`, `codesys`, `siemens`, `plcopen` -> files."""
    outputs = {}
    for target, dialect, _ in FLAVOURS:
        result = compile_paths([REPO / "rules"], target, dialect=dialect)
        assert result.ok, [f"{d.span}: {d.message}" for d in result.diagnostics if d.is_error]
        outputs[dialect or target] = result.files
    return outputs


def test_shipped_package_compiles_in_every_flavour(shipped: dict[str, dict[str, str]]) -> None:
    assert sorted(shipped["iec"]) == ["rules.iec.st", "rules.iec.st.map.json"]
    assert sorted(shipped["codesys"]) == ["rules.codesys.st", "rules.codesys.st.map.json"]
    assert sorted(shipped["siemens"]) == ["rules.scl", "rules.scl.map.json"]
    assert sorted(shipped["plcopen"]) == ["rules.xml", "rules.xml.map.json"]
    for program in ("Changeover", "DefrostControl", "AuxHeat", "SupervisoryAlarms"):
        assert f"FUNCTION_BLOCK {program}\n" in shipped["iec"]["rules.iec.st"]
        assert f'FUNCTION_BLOCK "{program}"\n' in shipped["siemens"]["rules.scl"]
        assert f'<pou name="{program}" pouType="functionBlock">' in shipped["plcopen"]["rules.xml"]


# blark's Earley parser takes a minute or more for the whole shipped package, so each text is
# parsed once per test session, however many processes run the tests (stinterp shares parse
# trees through a session cache; the equivalence tests load the same texts).


@pytest.mark.heavy
def test_blark_parses_the_codesys_output(shipped: dict[str, dict[str, str]]) -> None:
    tree = parse(shipped["codesys"]["rules.codesys.st"])  # raises StError naming the line blark stopped at
    assert tree is not None


def test_siemens_output_parses_and_passes_the_strict_checks_as_plain_st(
    shipped: dict[str, dict[str, str]],
) -> None:
    text = scl_as_st(shipped["siemens"]["rules.scl"])
    assert "#" not in re.sub(r"\(\*.*?\*\)", "", text)
    module = load(text, name="rules.scl")
    assert "Changeover" in module.pou_names


def test_plcopen_bodies_are_the_iec_text(shipped: dict[str, dict[str, str]]) -> None:
    """Every POU body in the project is, line for line, the body the `iec` dialect writes (which parses)."""
    import xml.etree.ElementTree as ET

    ns = {"p": "http://www.plcopen.org/xml/tc6_0201", "x": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring(shipped["plcopen"]["rules.xml"].encode("utf-8"))
    pous = root.findall(".//p:pou", ns)
    assert len(pous) > 20
    st_text = shipped["iec"]["rules.iec.st"]
    for pou in pous:
        body = pou.find("p:body/p:ST/x:p", ns)
        assert body is not None and body.text
        name = pou.get("name")
        head = rf"\n(?:FUNCTION_BLOCK|FUNCTION|PROGRAM) {name}(?: : \w+)?\n.*?\nEND_VAR\n(?!VAR)"
        block = re.search(head + r"(.*?)\nEND_(?:FUNCTION_BLOCK|FUNCTION|PROGRAM)\n", st_text, re.S)
        assert block, name
        assert body.text.strip("\n") == block.group(1).strip("\n"), name


def test_plcopen_project_validates_against_the_tc6_schema(shipped: dict[str, dict[str, str]]) -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(str(SCHEMA))
    errors = list(schema.iter_errors(shipped["plcopen"]["rules.xml"]))
    assert not errors, [f"{e.path}: {e.reason}" for e in errors[:5]]


def test_plcopen_interfaces_match_the_st_declarations(shipped: dict[str, dict[str, str]]) -> None:
    """Every variable the `iec` text declares in a block is declared in the XML interface too."""
    import xml.etree.ElementTree as ET

    ns = {"p": "http://www.plcopen.org/xml/tc6_0201"}
    root = ET.fromstring(shipped["plcopen"]["rules.xml"].encode("utf-8"))
    st = shipped["iec"]["rules.iec.st"]
    for pou in root.findall(".//p:pou", ns):
        name = pou.get("name")
        match = re.search(
            rf"\n(?:FUNCTION_BLOCK|FUNCTION|PROGRAM) {name}\b.*?\n(.*?)\nEND_VAR\n(?!VAR)", st, re.S
        )
        assert match, name
        declared = set(re.findall(r"^\s+(\w+) :", match.group(0), re.M))
        in_xml = {v.get("name") for v in pou.findall(".//p:interface//p:variable", ns)}
        assert declared == in_xml, (name, declared ^ in_xml)


def test_no_loops_no_recursion_in_any_flavour(shipped: dict[str, dict[str, str]]) -> None:
    """Bounded scan time: straight-line code with IF and CASE only; no block calls itself."""
    for flavour, files in shipped.items():
        text = next(t for f, t in files.items() if not f.endswith(".json"))
        code = re.sub(r"\(\*.*?\*\)|//[^\n]*", "", text, flags=re.S)
        for keyword in ("FOR", "WHILE", "REPEAT", "JMP", "__NEW", "POINTER", "REF_TO"):
            assert not re.search(rf"\b{keyword}\b", code), (flavour, keyword)
        for function in re.findall(r"\nFUNCTION (\w+)", code):
            body = code.split(f"\nFUNCTION {function}", 1)[1].split("END_FUNCTION", 1)[0]
            assert not re.search(rf"\b{function}\s*\(", body), (flavour, function)


def test_real_literals_are_strict_everywhere(shipped: dict[str, dict[str, str]]) -> None:
    """MATIEC rejects `1.`, `.5` and `1e3`: every real literal has digits on both sides of the dot."""
    code = re.sub(r"\(\*.*?\*\)|'[^']*'", "", shipped["iec"]["rules.iec.st"], flags=re.S)
    assert not re.search(r"(?<![\w.])\d+\.(?![\d.])", code)
    assert not re.search(r"(?<![\w.\d])\.\d", code)
    assert not re.search(r"(?<![\w.])\d+[eE][+-]?\d", code)


def test_comments_trace_statements_to_rules_and_requirements(shipped: dict[str, dict[str, str]]) -> None:
    text = shipped["iec"]["rules.iec.st"]
    assert re.search(r"\(\* rule \w+: rules/\w+\.rules:\d+ \([A-Z]\d", text)
    assert "(* hysteresis system_mode: rules/changeover.rules:" in text
    siemens = shipped["siemens"]["rules.scl"]
    assert re.search(r"\n\s+REGION rule \w+: rules/\w+\.rules:\d+", siemens)
    assert "END_REGION" in siemens


def test_source_map_points_at_the_rules_lines(shipped: dict[str, dict[str, str]]) -> None:
    for flavour, name in (("iec", "rules.iec.st"), ("siemens", "rules.scl"), ("plcopen", "rules.xml")):
        text = shipped[flavour][name]
        source_map = json.loads(shipped[flavour][f"{name}.map.json"])
        assert source_map["file"] == name and source_map["columns"][:4] == [
            "line",
            "pou",
            "source",
            "source_line",
        ]
        lines = text.split("\n")
        rules = {f: (REPO / f).read_text(encoding="utf-8").split("\n") for f in source_map["sources"]}
        assert len(source_map["mappings"]) > 1000
        hits = 0
        for line, pou, source, source_line, _cites in source_map["mappings"]:
            assert 1 <= line <= len(lines) and 1 <= source_line <= len(rules[source]), (line, source)
            if "system_mode := " in lines[line - 1] and pou in ("Changeover", '"Changeover"'):
                # the statement a hysteresis clause became maps to that clause
                assert re.match(r"\s+(below|above) ", rules[source][source_line - 1]), rules[source][
                    source_line - 1
                ]
                hits += 1
        assert hits >= 2


def test_output_is_byte_identical_across_hash_seeds_and_folders(tmp_path: Path) -> None:
    outputs = []
    for seed, cwd in (("1", REPO), ("2", tmp_path), ("random", REPO / "rules")):
        out = tmp_path / f"out-{seed}"
        files: dict[str, bytes] = {}
        for target, dialect, _ in FLAVOURS:
            command = [sys.executable, "-m", "hpdsl", "compile", str(REPO / "rules"), "--target", target]
            command += ["--dialect", dialect] if dialect else []
            command += ["-o", str(out / (dialect or target))]
            env = {**os.environ, "PYTHONHASHSEED": seed}
            done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr
        for path in sorted(out.rglob("*")):
            if path.is_file():
                files[str(path.relative_to(out))] = path.read_bytes()
        outputs.append(files)
    assert len(outputs[0]) == 8
    assert outputs[0] == outputs[1] == outputs[2]
    for data in outputs[0].values():
        assert str(REPO).encode() not in data and str(tmp_path).encode() not in data


def test_header_names_version_and_sources_without_a_timestamp(shipped: dict[str, dict[str, str]]) -> None:
    import hpdsl

    head = shipped["iec"]["rules.iec.st"].split("\n", 12)
    assert head[0] == f"(* Heat-pump control rules `rules`, compiled by hpdsl {hpdsl.__version__}. *)"
    assert "(*     rules/defrost.rules *)" in head
    for files in shipped.values():
        for text in files.values():
            assert not re.search(r"20[2-9]\d-\d\d-\d\d", text)


def test_real_flag_switches_every_real_declaration(tmp_path: Path) -> None:
    single = compile_paths([REPO / "rules"], "st", dialect="iec", real="REAL").files["rules.iec.st"]
    double = compile_paths([REPO / "rules"], "st", dialect="iec").files["rules.iec.st"]
    assert " : LREAL" not in single and "_TO_LREAL" not in single
    assert double.count(" : LREAL") == single.count(" : REAL")
    small = compile_paths([GOLDEN / "changeover"], "st", dialect="iec", real="REAL").files[
        "changeover.iec.st"
    ]
    load(small, name="changeover.iec.st")  # strict: no REAL mixed with LREAL anywhere


def test_names_are_renamed_with_a_warning_and_never_collide(tmp_path: Path) -> None:
    rules = """
        enum Mode (Heat, Cool)
        program Plant "names Structured Text reserves or repeats"
            input step: bool fallback false "a keyword in ST"
            input time: s range 0 s .. 100 s fallback 0 s "a type in ST"
            parameter max: C = 20C range 0C .. 40C "a standard function"
            output mode: Mode = Heat "clashes with the type Mode"
            output Step_1: bool = false "would clash once `step` is renamed"
            rule pick
                if step and time > 10 s then
                    mode = Cool
                end
                Step_1 = max > 10C
            end
        end
    """
    for target, dialect, _ in FLAVOURS:
        result = compile_text(tmp_path, rules, target, dialect=dialect)
        assert result.ok
        renamed = {d.message for d in result.diagnostics if d.code == "target-rename"}
        flavour = dialect or "plcopen"
        assert f"`step` is written `step_1` in the {flavour} output" in renamed, renamed
        assert f"`Step_1` is written `Step_1_1` in the {flavour} output" in renamed, renamed
        assert f"`max` is written `max_1` in the {flavour} output" in renamed
        assert f"`mode` is written `mode_1` in the {flavour} output" in renamed
        text = next(t for f, t in result.files.items() if not f.endswith(".json"))
        if target == "plcopen":
            block = re.search(r'<pou name="Plant".*?</pou>', text, re.S)
            assert block
            names = [n.upper() for n in re.findall(r'<variable name="(\w+)"', block.group(0))]
        else:
            block = re.search(r'FUNCTION_BLOCK "?Plant"?\n(.*?)END_FUNCTION_BLOCK', text, re.S)
            assert block
            names = [n.upper() for n in re.findall(r"^\s+(\w+) : ", block.group(1), re.M)]
        assert {"STEP_1", "STEP_1_1", "TIME_1", "MAX_1", "MODE_1"} <= set(names)
        assert len(names) == len(set(names)), names


def test_a_value_the_dialect_cannot_hold_is_an_error_naming_it(tmp_path: Path) -> None:
    rules = """
        program Big "a number beyond single precision"
            input x: real fallback 0 "reading"
            output y: real = 0 "scaled"
            rule scale
                y = x * 1.0e39
            end
        end
    """
    result = compile_text(tmp_path, rules, "st", dialect="iec", real="REAL")
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["target-unsupported"]
    assert "the iec dialect cannot express the number 1e+39" in errors[0].message
    assert errors[0].span.line == 6 and errors[0].hint and "--real LREAL" in errors[0].hint
    assert not result.files
    assert compile_text(tmp_path, rules, "st", dialect="iec").ok  # LREAL holds it


def test_cli_writes_st_and_refuses_what_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "rules.iec.st").write_text("(* my own hand-written program *)\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "hpdsl",
        "compile",
        str(REPO / "rules"),
        "--target",
        "st",
        "-o",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "hpdsl did not generate it" in done.stderr
    assert (out / "rules.iec.st").read_text(encoding="utf-8") == "(* my own hand-written program *)\n"
    done = subprocess.run([*command, "--force"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "rules.iec.st" in done.stdout
    done = subprocess.run([*command, "--dialect", "siemens"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and (out / "rules.scl").exists()
    # Two dialects into one folder: each file says its dialect, neither replaces the other.
    done = subprocess.run([*command, "--dialect", "codesys"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and (out / "rules.codesys.st").exists() and (out / "rules.iec.st").exists()
    assert (out / "rules.iec.st").read_text(encoding="utf-8").count("Dialect: iec") == 1
    wrong = [sys.executable, "-m", "hpdsl", "compile", str(REPO / "rules"), "--target", "python"]
    done = subprocess.run(
        [*wrong, "--dialect", "iec", "-o", str(out)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "--dialect applies to --target st only" in done.stderr


@pytest.mark.parametrize(("target", "dialect", "suffix"), FLAVOURS)
def test_golden_files(target: str, dialect: str | None, suffix: str) -> None:
    """The representative program compiles to exactly the reviewed file of every flavour.

    After a deliberate change to a generator, regenerate with
    `hpdsl compile tests/data/golden/changeover --target T [--dialect D] --no-source-comments
    -o tests/data/golden/changeover/<D or plcopen>` and review the diff.
    """
    folder = GOLDEN / "changeover"
    result = compile_paths([folder], target, "changeover", source_comments=False, dialect=dialect)
    assert result.ok, [str(d) for d in result.diagnostics]
    expected = folder / (dialect or target) / f"changeover{suffix}"
    assert result.files[f"changeover{suffix}"] == expected.read_text(encoding="utf-8")
