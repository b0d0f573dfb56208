"""Text from outside cannot become code: a rules file's name, whatever it holds, stays text in the
generated Python.

The name of a rules file reaches the module docstring, each program's `SOURCE`, the points'
metadata and comments. Hypothesis draws names from all of Unicode (quotes, backslashes, line
breaks, control characters, bidi marks, lone surrogates); each module must compile, import
without a side effect, and hold exactly the statements a plain name gives, with the name
readable back from `SOURCE`.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpdsl.base.source import SourceFile
from hpdsl.check.checker import check_package
from hpdsl.codegen.compiler import import_generated
from hpdsl.codegen.escape import readable
from hpdsl.codegen.python import PythonGenerator
from hpdsl.compile.lower import lower_package

RULES = """
requirement C1 "OutdoorTemp > 21C selects Cooling"

enum SystemMode (Heating, Cooling) "Operating mode"

program Changeover "Mode changeover" cites C1
    input outdoor_temp: C range -40C .. 60C fallback 10C "Outdoor air temperature"
    parameter cooling_above: C = 21C range 18C .. 30C "Cool when warmer than this" cites C1
    output system_mode: SystemMode = Heating "Selected mode"

    hysteresis system_mode on outdoor_temp cites C1
        below 15C -> Heating
        above cooling_above -> Cooling
    end
end
"""

HOSTILE = [
    'x"+str(__import__("os").system("touch CANARY"))+".rules',
    'a"""\nimport os; os.system("touch CANARY")\n"""b.rules',
    "line\r\nbreak\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029.rules",
    "nul\x00and\x1b[31mescape.rules",
    "bidi\u202eselur.txt\u202c.rules",
    "back\\slash\\.rules",
    'ends with quote".rules',
    "ends with backslash\\",
    "\ud800 lone surrogate.rules",
    "#!comment\n# -*- coding: latin-1 -*-\n.rules",
]


def generate(file_name: str) -> str:
    checked, found = check_package([SourceFile("plant.rules", RULES)])
    assert checked is not None and not [d for d in found if d.is_error]
    package = lower_package(checked, "plant", {"plant.rules": file_name})
    return PythonGenerator(package).generate("test")


def statements(text: str) -> list[str]:
    """The kinds of every statement of a module, in order: what the text does, whatever its comments."""
    return [type(node).__name__ for node in ast.walk(ast.parse(text)) if isinstance(node, ast.stmt)]


PLAIN = statements(generate("plant.rules"))
PROGRAM_LINE = (
    RULES.split("\n").index(next(line for line in RULES.split("\n") if line.startswith("program"))) + 1
)


def assert_inert(file_name: str, folder: Path) -> None:
    text = generate(file_name)
    assert statements(text) == PLAIN, file_name
    before = set(os.listdir(folder))
    module = import_generated(text)
    assert set(os.listdir(folder)) == before  # no side effect
    assert f"{readable(file_name)}:{PROGRAM_LINE}" == module.Changeover.SOURCE
    assert module.__doc__ is not None and readable(file_name) in module.__doc__


@pytest.mark.parametrize("file_name", HOSTILE)
def test_a_hostile_file_name_stays_text(
    file_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_inert(file_name, tmp_path)
    assert not (tmp_path / "CANARY").exists()


@given(st.text(min_size=1, max_size=40))
@settings(max_examples=150, deadline=None)
def test_any_file_name_stays_text(file_name: str) -> None:
    assert_inert(file_name, Path.cwd())


# --- Structured Text and PLCopen XML --------------------------------------------------------------

# A doc string that tries to leave an ST comment, a CDATA section and an XML comment.
HOSTILE_DOC = "Mode changeover *) x := 1; (* ]]><evil/><![CDATA[ -- --> <!-- //"


def generate_plc(file_name: str, doc: str = "Mode changeover") -> dict[str, str]:
    """Every PLC output of the rules, by dialect, with `file_name` and the program's doc string."""
    from hpdsl.codegen.plcopen import PlcopenGenerator
    from hpdsl.codegen.st import GENERATORS

    checked, found = check_package(
        [SourceFile("plant.rules", RULES.replace('"Mode changeover"', f'"{doc}"'))]
    )
    assert checked is not None and not [d for d in found if d.is_error], found
    package = lower_package(checked, "plant", {"plant.rules": file_name})
    texts = {
        dialect: next(iter(cls(package).generate("test").files.values()))
        for dialect, cls in GENERATORS.items()
    }
    texts["plcopen"] = next(iter(PlcopenGenerator(package).generate("test").files.values()))
    return texts


def st_code(text: str) -> str:
    """Structured Text without its comments: what a PLC compiles."""
    import re

    text = re.sub(r"\(\*.*?\*\)", "", text, flags=re.DOTALL)
    # An SCL region's title runs to the end of its line, like a comment.
    text = re.sub(r"^(\s*REGION)\b.*$", r"\1", text, flags=re.MULTILINE)
    return "\n".join(
        line.split("//", 1)[0].rstrip() for line in text.splitlines() if line.split("//", 1)[0].strip()
    )


def xml_shape(text: str) -> tuple[list[str], list[str]]:
    """The element tags of a PLCopen project in document order, and its ST bodies without comments."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(text.encode("utf-8"))
    tags = [element.tag for element in root.iter()]
    bodies = [st_code(p.text or "") for st in root.iter() if st.tag.endswith("}ST") for p in st]
    return tags, bodies


PLAIN_PLC = generate_plc("plant.rules")


@pytest.mark.parametrize("file_name", HOSTILE)
def test_a_hostile_file_name_or_doc_stays_in_the_comments_of_st_and_xml(file_name: str) -> None:
    hostile = generate_plc(file_name, HOSTILE_DOC)
    for dialect in ("iec", "codesys", "siemens"):
        assert st_code(hostile[dialect]) == st_code(PLAIN_PLC[dialect]), dialect
    assert xml_shape(hostile["plcopen"]) == xml_shape(PLAIN_PLC["plcopen"])


# --- What a person reads: the terminal and Markdown --------------------------------------------

HOSTILE_TEXT = [
    "\x1b]0;pwned\x07\x1b[2J",  # a terminal title and a clear screen
    "a\u202eb",  # right-to-left override
    "zero\u200bwidth",
    "`` ` ``<img src=x onerror=alert(1)>",
    "| cell | break |",
    "\ud800 lone surrogate",
    "line\nbreak",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_the_terminal_never_receives_a_control_sequence(text: str) -> None:
    from hpdsl.base.escape import terminal, unsafe

    shown = terminal(text)
    assert not any(unsafe(char) for char in shown)
    assert "\x1b" not in shown and "\u202e" not in shown
    assert terminal(shown) == shown  # showing is stable


@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_markdown_never_reads_user_text_as_markup(text: str) -> None:
    import markdown_it

    from hpdsl.base.escape import markdown_code, markdown_text

    renderer = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    for rendered in (markdown_text(text), markdown_code(text)):
        html = renderer.render(f"| a |\n|---|\n| {rendered} |\n")
        body = html.split("<tbody>", 1)[1]
        # one row of one cell, and no element but the table's and a code span
        assert body.count("<td>") == 1 and body.count("<tr>") == 1, (text, html)
        tags = set(re.findall(r"</?([a-z0-9]+)", body))
        assert tags <= {"tr", "td", "code", "tbody", "table"}, (text, tags)


# --- Properties over any text: every target, the document --------------------------------------


def _rules_string(text: str) -> str:
    """`text` as the body of a rules string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _doc_text() -> st.SearchStrategy[str]:
    """Any one-line text the checker accepts in a string: no control, invisible or reordering
    character (those are `unsafe-character` errors, tests/data/diagnostics), and not blank (a
    blank documentation string is left out, which is a different document, not an injected one)."""
    from hpdsl.language.builder import unsafe_character

    return st.text(min_size=1, max_size=30).filter(
        lambda t: t.strip() != "" and "\n" not in t and unsafe_character(t) is None
    )


_SCHEMA: list[Any] = []


def _schema_errors(text: str) -> list[str]:
    import xmlschema

    if not _SCHEMA:
        _SCHEMA.append(
            xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "plcopen" / "tc6_xml_v201.xsd"))
        )
    return [f"{e.path}: {e.reason}" for e in _SCHEMA[0].iter_errors(text)]


@given(file_name=st.text(min_size=1, max_size=30), doc=_doc_text())
@settings(max_examples=60, deadline=None)
def test_any_file_name_and_doc_leave_the_st_and_the_xml_as_they_were(file_name: str, doc: str) -> None:
    """The same statements in every dialect, the same elements in the PLCopen project, and the
    project still valid against the TC6 schema, whatever the file name and the documentation."""
    texts = generate_plc(file_name, _rules_string(doc))
    for dialect in ("iec", "codesys", "siemens"):
        assert st_code(texts[dialect]) == st_code(PLAIN_PLC[dialect]), dialect
    assert xml_shape(texts["plcopen"]) == xml_shape(PLAIN_PLC["plcopen"])
    assert not _schema_errors(texts["plcopen"])


@given(file_name=st.text(min_size=1, max_size=20), doc=_doc_text())
@settings(max_examples=3, deadline=None)
def test_any_text_compiles_with_matiec_and_parses_with_blark(
    file_name: str, doc: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A few draws through the real tools (each takes a second or two): MATIEC compiles the `iec`
    text, blark parses the `codesys` text."""
    from stinterp import parse

    from hpdsl.tools.testing import matiec

    texts = generate_plc(file_name, _rules_string(doc))
    parse(texts["codesys"])  # raises naming the line blark stopped at
    try:
        toolchain = matiec.find_toolchain()
    except matiec.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have MATIEC (.ci/run builds it): {exc}")
        return
    matiec.accept(toolchain, texts["iec"], tmp_path_factory.mktemp("any"))


def _elements(html_text: str) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append(tag)

    Collector().feed(html_text)
    return found


@given(doc=_doc_text(), summary=_doc_text())
@settings(max_examples=40, deadline=None)
def test_any_doc_text_adds_no_element_to_the_document(
    doc: str, summary: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The sequence of operations as HTML, and its Markdown as a CommonMark reader renders it, has
    the same elements whatever the rules' documentation and requirement text say."""
    import markdown_it

    from hpdsl.tools.doc.command import build

    renderer = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")

    def shape(doc_text: str, summary_text: str) -> tuple[list[str], list[str]]:
        folder = tmp_path_factory.mktemp("doc")
        text = RULES.replace('"Mode changeover"', f'"{_rules_string(doc_text)}"')
        text = f'requirement Z9 "{_rules_string(summary_text)}"\n' + text.replace(
            "cites C1", "cites C1, Z9", 1
        )
        (folder / "plant.rules").write_text(text, encoding="utf-8")
        result = build([folder], "plant")
        assert not any(d.is_error for d in result.diagnostics), result.diagnostics
        html_text = next(t for name, t in result.files.items() if name.endswith(".html"))
        markdown_text = next(t for name, t in result.files.items() if name.endswith(".md"))
        return _elements(html_text), _elements(renderer.render(markdown_text))

    assert shape(doc, summary) == shape("plain words", "plain words")


def test_hostile_file_names_leave_the_python_type_checked_and_lint_clean(
    tmp_path: Path, repo_root: Path
) -> None:
    """mypy --strict and ruff pass on the module made with each hostile file name (one run of each)."""
    from pytarget import assert_mypy_strict_and_ruff_pass

    for k, file_name in enumerate(HOSTILE):
        (tmp_path / f"hostile_{k}.py").write_text(
            generate(file_name), encoding="utf-8", errors="surrogatepass"
        )
    assert_mypy_strict_and_ruff_pass(tmp_path, repo_root)
