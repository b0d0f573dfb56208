"""`hpdsl lsp` through a real client over stdio, and the VS Code extension's TextMate grammar."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from hpdsl.language.parser import keywords, lark_parser

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
VSCODE = ROOT / "editors" / "vscode"


# ================================================================================ client
class Session:
    """A pygls client talking to `python -m hpdsl lsp`, driven from the test thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = LanguageClient("hpdsl-tests", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.publications = 0
        self.logs: list[str] = []
        self.changed = threading.Condition()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            with self.changed:
                self.diagnostics[params.uri] = list(params.diagnostics)
                self.publications += 1
                self.changed.notify_all()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run a client method on the client's event loop and wait for its answer."""

        async def run() -> Any:
            result = function(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        with self.changed:
            assert self.changed.wait_for(predicate, timeout), f"timed out; diagnostics: {self.diagnostics}"

    def publish_after(self, action: Callable[[], None], uri: str) -> list[types.Diagnostic]:
        """Do something and return the next diagnostics published for a document."""
        with self.changed:
            before = self.publications
        action()
        self.wait_for(lambda: self.publications > before and uri in self.diagnostics)
        # Every file of the package is published in one burst; let the burst arrive.
        self.call(asyncio.sleep, 0.2)
        return self.diagnostics[uri]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lsp") / "rules"
    shutil.copytree(RULES, folder, ignore=shutil.ignore_patterns("scenarios", "sites"))
    return folder


@pytest.fixture(scope="module")
def session(package: Path) -> Iterator[Session]:
    session = Session()
    session.call(session.client.start_io, sys.executable, "-m", "hpdsl", "lsp")
    result = session.call(
        session.client.initialize_async,
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=package.parent.as_uri()),
    )
    assert result.server_info.name == "hpdsl"
    session.call(session.client.initialized, types.InitializedParams())
    yield session
    session.call(session.client.shutdown_async, None)
    session.call(session.client.exit, None)
    session.call(session.client.stop)
    process = session.client._server
    assert process is not None and process.returncode == 0
    session.loop.call_soon_threadsafe(session.loop.stop)


_versions: dict[str, int] = {}


def _open(session: Session, path: Path, text: str | None = None) -> list[types.Diagnostic]:
    uri = path.as_uri()
    _versions[uri] = 1
    item = types.TextDocumentItem(uri=uri, language_id="hpdsl", version=1, text=text or path.read_text())
    return session.publish_after(
        lambda: session.call(
            session.client.text_document_did_open, types.DidOpenTextDocumentParams(text_document=item)
        ),
        uri,
    )


def _change(session: Session, path: Path, text: str) -> list[types.Diagnostic]:
    uri = path.as_uri()
    if uri not in _versions:  # each test can run alone
        _open(session, path)
    _versions[uri] += 1
    params = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=_versions[uri]),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    )
    return session.publish_after(lambda: session.call(session.client.text_document_did_change, params), uri)


def _position(text: str, needle: str, word: str | None = None) -> types.Position:
    """The LSP position (0-based, UTF-16) of `word` inside the first occurrence of `needle`."""
    start = text.index(needle) + (needle.index(word) if word else 0)
    line = text.count("\n", 0, start)
    prefix = text[text.rfind("\n", 0, start) + 1 : start]
    return types.Position(line=line, character=len(prefix.encode("utf-16-le")) // 2)


def _doc(path: Path) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=path.as_uri())


# ================================================================================ tests
def test_the_clean_package_publishes_no_diagnostics(session: Session, package: Path) -> None:
    diagnostics = _open(session, package / "changeover.rules")
    assert diagnostics == []
    assert all(found == [] for found in session.diagnostics.values())


def test_an_error_typed_in_is_reported_at_its_range_and_cleared_when_fixed(
    session: Session, package: Path
) -> None:
    path = package / "changeover.rules"
    original = path.read_text()
    # A character outside the Basic Multilingual Plane before the error: two UTF-16 code
    # units, one code point. The range must count it the editor's way.
    anchor = "parameter heating_below: C = 15C range 5C .. 16C"
    broken = original.replace(anchor, anchor + ' "below 15 °C 🌡" cites C2X', 1)
    assert broken != original
    diagnostics = _change(session, path, broken)
    codes = [d.code for d in diagnostics]
    assert "unknown-requirement" in codes, diagnostics
    found = next(d for d in diagnostics if d.code == "unknown-requirement")
    start = _position(broken, "cites C2X", "C2X")
    assert found.range.start == start
    assert found.range.end == types.Position(line=start.line, character=start.character + 3)
    assert found.severity == types.DiagnosticSeverity.Error
    assert found.source == "hpdsl"
    assert "C2X" in found.message and "hint:" in found.message
    # A note that points elsewhere becomes related information.
    duplicated = original.replace(
        "    var too_warm_to_economize",
        "    var heating_below: bool = false\n    var too_warm_to_economize",
        1,
    )
    diagnostics = _change(session, path, duplicated)
    duplicate = next(d for d in diagnostics if d.code == "duplicate-name")
    assert duplicate.range.start == _position(duplicated, "var heating_below", "heating_below")
    (related,) = duplicate.related_information or []
    assert related.location.uri == path.as_uri()
    assert related.location.range.start == _position(duplicated, "parameter heating_below", "heating_below")
    # A syntax error: reported, and the other features keep the last good package.
    diagnostics = _change(session, path, original.replace("    rule ", "    rule rule ", 1))
    assert [d.code for d in diagnostics] == ["keyword-as-name"] or diagnostics[0].code in (
        "syntax",
        "keyword-as-name",
    )
    assert _change(session, path, original) == []


def test_a_name_the_plc_renames_is_published_with_its_range(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    original = path.read_text()
    renamed = original.replace("var too_warm_to_economize", "var step", 1)
    renamed = renamed.replace("too_warm_to_economize", "step")
    diagnostics = _change(session, path, renamed)
    found = [d for d in diagnostics if d.code == "target-rename"]
    assert len(found) == 1, diagnostics
    start = _position(renamed, "var step", "step")
    assert found[0].range.start == start
    assert found[0].range.end == types.Position(line=start.line, character=start.character + 4)
    assert "`step` is written `step_1`" in found[0].message
    assert found[0].severity == types.DiagnosticSeverity.Warning
    assert _change(session, path, original) == []


def test_an_error_in_one_file_is_published_for_that_file(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    original = path.read_text()
    plant = (package / "plant.rules").as_uri()
    # Renaming the output that changeover reads breaks the wiring in the other direction.
    renamed = original.replace("output system_mode:", "output system_mode_x:", 1)
    diagnostics = _change(session, path, renamed)
    assert diagnostics, "the renamed output is now undefined where it is written"
    alarms = (package / "alarms.rules").as_uri()
    assert any(d.code == "wiring" for d in session.diagnostics.get(alarms, []))
    assert session.diagnostics.get(plant, []) == []
    _change(session, path, original)
    assert session.diagnostics[alarms] == []


def test_hover_on_a_parameter(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    text = path.read_text()
    hover = session.call(
        session.client.text_document_hover_async,
        types.HoverParams(
            text_document=_doc(path), position=_position(text, "below heating_below", "heating_below")
        ),
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    value = hover.contents.value
    assert "**parameter** `heating_below`" in value
    assert "temperature in C" in value
    assert "default `15C`" in value and "range `5C .. 16C`" in value
    assert "Heating is selected when the outdoor temperature falls below this." in value
    assert "`C2`: OutdoorTemp < 15C selects Heating" in value
    start = _position(text, "below heating_below", "heating_below")
    assert hover.range.start == start


def test_definition_from_a_wiring_and_from_a_citation(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    text = path.read_text()
    location = session.call(
        session.client.text_document_definition_async,
        types.DefinitionParams(
            text_document=_doc(path),
            position=_position(text, "from PlantSignals.outdoor_temp", "outdoor_temp"),
        ),
    )
    plant = (package / "plant.rules").read_text()
    assert location.uri == (package / "plant.rules").as_uri()
    assert plant.split("\n")[location.range.start.line].lstrip().startswith("output outdoor_temp")
    location = session.call(
        session.client.text_document_definition_async,
        types.DefinitionParams(text_document=_doc(path), position=_position(text, "cites C1, C2, C3", "C2")),
    )
    requirements = (package / "requirements.rules").read_text()
    assert location.uri == (package / "requirements.rules").as_uri()
    line = requirements.split("\n")[location.range.start.line]
    assert line.startswith("requirement C2 ")
    assert location.range.start.character == line.index("C2")


def test_references_of_an_output_across_files(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    text = path.read_text()
    locations = session.call(
        session.client.text_document_references_async,
        types.ReferenceParams(
            text_document=_doc(path),
            position=_position(text, "output system_mode", "system_mode"),
            context=types.ReferenceContext(include_declaration=True),
        ),
    )
    wired = sum(
        len(re.findall(r"from Changeover\.system_mode\b", p.read_text()))
        for p in sorted(package.glob("*.rules"))
    )
    assert wired >= 3
    files = {location.uri.rsplit("/", 1)[-1] for location in locations}
    assert "changeover.rules" in files and "alarms.rules" in files
    texts = {p.as_uri(): p.read_text().split("\n") for p in package.glob("*.rules")}
    wirings = [
        loc
        for loc in locations
        if texts[loc.uri][loc.range.start.line][: loc.range.start.character].endswith("from Changeover.")
    ]
    assert len(wirings) == wired  # every `from Changeover.system_mode`, this file's own included
    assert locations[0].uri == path.as_uri()  # the declaration first


def test_completion_of_units_and_enum_members(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    original = path.read_text()
    typed = original.replace(
        "    rule ", "    var probe: C = 21\n    var mode_probe: SystemMode = SystemMode.\n    rule ", 1
    )
    _change(session, path, typed)  # half-typed: the package does not check, completion still works

    def labels(needle: str) -> list[str]:
        position = _position(typed, needle)
        position = types.Position(line=position.line, character=position.character + len(needle))
        answer = session.call(
            session.client.text_document_completion_async,
            types.CompletionParams(text_document=_doc(path), position=position),
        )
        assert isinstance(answer, types.CompletionList)
        return [item.label for item in answer.items]

    units = labels("var probe: C = 21")
    assert {"C", "K", "kW", "min", "%"} <= set(units)
    assert "program" not in units
    assert labels("SystemMode = SystemMode.") == ["Heating", "Cooling"]
    _change(session, path, original)


def test_document_symbols_nest_declarations_in_programs(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    symbols = session.call(
        session.client.text_document_document_symbol_async,
        types.DocumentSymbolParams(text_document=_doc(path)),
    )
    assert [s.name for s in symbols] == ["Changeover", "ReversingValve"]
    changeover = symbols[0]
    assert changeover.kind == types.SymbolKind.Module
    children = [c.name for c in changeover.children or []]
    assert children[:3] == ["outdoor_temp", "cooling_above", "heating_below"]
    parameter = next(c for c in changeover.children or [] if c.name == "heating_below")
    assert parameter.kind == types.SymbolKind.Property
    assert parameter.detail == "parameter: C"


def _has_formatter() -> bool:
    from hpdsl.tools import fmt

    return hasattr(fmt, "format_text")


@pytest.mark.skipif(
    not _has_formatter(), reason="hpdsl.tools.fmt.format_text (the formatter) is not in this tree yet"
)
def test_formatting_gives_back_the_shipped_layout(session: Session, package: Path) -> None:
    path = package / "changeover.rules"
    original = path.read_text()
    # Every line re-indented by two spaces, except inside documentation strings (their text).
    lines, inside = [], False
    for line in original.split("\n"):
        lines.append(line if inside or not line.strip() else "  " + line.strip())
        inside ^= line.count('"""') % 2 == 1
    reindented = "\n".join(lines)
    assert reindented != original
    _change(session, path, reindented)
    edits = session.call(
        session.client.text_document_formatting_async,
        types.DocumentFormattingParams(
            text_document=_doc(path), options=types.FormattingOptions(tab_size=4, insert_spaces=True)
        ),
    )
    assert len(edits) == 1
    assert edits[0].range.start == types.Position(line=0, character=0)
    assert edits[0].new_text == original
    # A syntax error: no edits, the diagnostic says what is wrong.
    _change(session, path, original + "\nprogram\n")
    edits = session.call(
        session.client.text_document_formatting_async,
        types.DocumentFormattingParams(
            text_document=_doc(path), options=types.FormattingOptions(tab_size=4, insert_spaces=True)
        ),
    )
    assert not edits
    _change(session, path, original)


def test_a_scenario_file_gets_its_diagnostics_and_its_failures(session: Session, package: Path) -> None:
    """A `.scenario` file is checked as `hpdsl test` checks it: syntax, names against its package,
    and each expectation that does not hold when it runs, at its line; nothing of the rules."""
    folder = package / "scenarios"
    folder.mkdir(exist_ok=True)
    path = folder / "changeover.scenario"
    original = (RULES / "scenarios" / "changeover.scenario").read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    assert _open(session, path, original) == []

    wrong = original.replace(
        "| 30 min | 21.1C        | Cooling            |", "| 30 min | 21.1C        | Heating            |", 1
    )
    assert wrong != original
    (failed,) = _change(session, path, wrong)
    assert failed.code == "scenario-failed" and failed.severity == types.DiagnosticSeverity.Error
    assert "cooling_above_21C" in failed.message and "Cooling" in failed.message
    assert failed.range.start.line == wrong.splitlines().index(
        "        | 30 min | 21.1C        | Heating            |"
    )

    unknown = original.replace(
        "| time   | outdoor_temp | expect system_mode |", "| time   | outdoor_tmp | expect system_mode |", 1
    )
    codes = [d.code for d in _change(session, path, unknown)]
    assert "scenario-name" in codes, codes

    broken = original.replace("    program Changeover\n", "    program\n", 1)
    codes = [d.code for d in _change(session, path, broken)]
    assert codes and all(code not in ("scenario-failed",) for code in codes), codes

    assert _change(session, path, original) == []
    # Hover and completion do not treat a scenario as rules.
    hover = session.call(
        session.client.text_document_hover_async,
        types.HoverParams(text_document=_doc(path), position=types.Position(line=8, character=10)),
    )
    assert hover is None


def test_bad_input_never_stops_the_server(session: Session, package: Path, tmp_path: Path) -> None:
    # A file alone in a folder, an unsaved buffer and a document nobody opened.
    lonely = tmp_path / "alone.rules"
    lonely.write_text("program P\n    input x: C\nend\n")
    diagnostics = _open(session, lonely, "program P\n    input x: C = \n")
    assert diagnostics and diagnostics[0].code in ("syntax", "unclosed-block")
    untitled = "untitled:Untitled-1"
    session.call(
        session.client.text_document_did_open,
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=untitled, language_id="hpdsl", version=1, text="\x00garbage ]["
            )
        ),
    )
    hover = session.call(
        session.client.text_document_hover_async,
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=untitled),
            position=types.Position(line=0, character=3),
        ),
    )
    assert hover is None
    position = types.Position(line=400, character=999)
    answer = session.call(
        session.client.text_document_definition_async,
        types.DefinitionParams(text_document=_doc(package / "changeover.rules"), position=position),
    )
    assert answer is None
    # Still answering.
    symbols = session.call(
        session.client.text_document_document_symbol_async,
        types.DocumentSymbolParams(text_document=_doc(package / "changeover.rules")),
    )
    assert symbols


# ================================================================================ process
def test_lsp_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hpdsl", "lsp", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "Language Server Protocol" in done.stdout


def test_the_server_exits_when_stdin_closes() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hpdsl", "lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode is not None


# ================================================================================ TextMate grammar
def _grammar(name: str = "hpdsl") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VSCODE / "syntaxes" / f"{name}.tmLanguage.json").read_text())
    return loaded


def _expand(
    grammar: dict[str, Any], patterns: list[dict[str, Any]], seen: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """The rules of a pattern list with every include replaced by what it names."""
    rules: list[dict[str, Any]] = []
    for pattern in patterns:
        include = pattern.get("include")
        if include is None:
            rules.append(pattern)
        elif include == "$self":
            if "$self" not in seen:
                rules.extend(_expand(grammar, grammar["patterns"], seen | {"$self"}))
        else:
            assert include.startswith("#"), f"external include {include}"
            name = include[1:]
            assert name in grammar["repository"], f"include {include} names no repository entry"
            entry = grammar["repository"][name]
            if name not in seen:
                rules.extend(_expand(grammar, entry.get("patterns", [entry]), seen | {name}))
    return rules


def _scopes(grammar: dict[str, Any], text: str) -> list[list[str]]:
    """The scopes of every character, by TextMate's rules: earliest match first, ties to the first rule."""
    result: list[list[str]] = []
    stack: list[dict[str, Any]] = []  # open begin/end rules
    for line in text.split("\n"):
        scopes: list[list[str]] = [[] for _ in line]
        pos = 0
        while pos <= len(line):
            outer = [rule["name"] for rule in stack if "name" in rule]
            rules = _expand(grammar, stack[-1].get("patterns", []) if stack else grammar["patterns"])
            best: tuple[int, int, re.Match[str], dict[str, Any] | None] | None = None
            if stack:
                end = re.compile(stack[-1]["end"]).search(line, pos)
                if end is not None:
                    best = (end.start(), -1, end, None)
            for order, rule in enumerate(rules):
                match = re.compile(rule.get("match") or rule["begin"]).search(line, pos)
                if match is not None and (best is None or (match.start(), order) < best[:2]):
                    best = (match.start(), order, match, rule)
            if best is None:
                for i in range(pos, len(line)):
                    scopes[i] = outer
                break
            start, _, match, rule = best
            for i in range(pos, start):
                scopes[i] = outer
            if rule is None:  # the end of the open rule
                closing = stack.pop()
                for i in range(match.start(), match.end()):
                    scopes[i] = [*outer, *_capture(closing.get("endCaptures", {}), match, i)]
            else:
                name = [rule["name"]] if "name" in rule else []
                captures = rule.get("captures") or rule.get("beginCaptures") or {}
                for i in range(match.start(), match.end()):
                    scopes[i] = [*outer, *name, *_capture(captures, match, i)]
                if "begin" in rule:
                    stack.append(rule)
            if match.end() > pos:
                pos = match.end()
            elif rule is not None:
                pos += 1  # an empty match must not stop the scan
        result.extend(scopes)
        result.append([rule["name"] for rule in stack if "name" in rule])  # the newline
    return result


def _capture(captures: dict[str, dict[str, str]], match: re.Match[str], index: int) -> list[str]:
    names: list[str] = []
    for group, capture in sorted(captures.items(), key=lambda item: int(item[0])):
        start, end = match.span(int(group))
        if start <= index < end and "name" in capture:
            names.append(capture["name"])
    return names


def test_the_manifest_names_the_grammar_the_configuration_and_the_server_setting() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text())
    rules, scenarios = manifest["contributes"]["languages"]
    assert rules["extensions"] == [".rules"] and scenarios["extensions"] == [".scenario"]
    for language in (rules, scenarios):
        assert (VSCODE / language["configuration"]).is_file()
        json.loads((VSCODE / language["configuration"]).read_text())
    by_language = {g["language"]: g for g in manifest["contributes"]["grammars"]}
    assert by_language[rules["id"]]["scopeName"] == _grammar()["scopeName"]
    assert by_language[scenarios["id"]]["scopeName"] == _grammar("scenario")["scopeName"]
    for grammar in by_language.values():
        assert (VSCODE / grammar["path"]).is_file()
    setting = manifest["contributes"]["configuration"]["properties"]["hpdsl.server.command"]
    assert setting["default"] == ["hpdsl", "lsp"]
    assert (VSCODE / manifest["main"]).is_file()
    extension = (VSCODE / manifest["main"]).read_text()
    assert "hpdsl.server.command" in extension or '"server.command"' in extension
    # The language server gets both kinds of document.
    assert '{ language: "hpdsl" }' in extension and '{ language: "hpdsl-scenario" }' in extension
    assert "vscode-languageclient" in manifest["dependencies"]
    assert not (VSCODE / "node_modules").exists()


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_extension_is_valid_javascript() -> None:
    checked = subprocess.run(
        ["node", "--check", str(VSCODE / "extension.js")], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("name", ["hpdsl", "scenario"])
def test_every_include_resolves_and_every_regex_compiles(name: str) -> None:
    grammar = _grammar(name)
    rules = _expand(grammar, grammar["patterns"])
    for entry in grammar["repository"].values():
        rules.extend(_expand(grammar, entry.get("patterns", [entry])))
    assert len(rules) > 20
    for rule in rules:
        for key in ("match", "begin", "end"):
            if key in rule:
                re.compile(rule[key])
        assert "match" in rule or ("begin" in rule and "end" in rule), rule


def _grammar_keywords() -> set[str]:
    """The keywords of grammar/hpdsl.lark: its quoted words, read from the grammar text itself."""
    text = (ROOT / "grammar" / "hpdsl.lark").read_text()
    code = "\n".join(line.split("//", 1)[0] for line in text.split("\n"))
    return set(re.findall(r'"([a-z_]+)"', code))


def _assert_keywords_coloured(grammar: dict[str, Any], words: set[str], after: str) -> None:
    """Each word is coloured as a keyword alone, leading a line, and after a name (then `after`)."""
    for word in sorted(words):
        for text in (word, f"  {word} x", f"x {word}{after}"):
            scopes = _scopes(grammar, text)[text.index(word)]
            assert any(s.startswith(("keyword.", "storage.", "constant.language.")) for s in scopes), (
                word,
                text,
                scopes,
            )


def test_every_keyword_of_the_lark_grammar_is_coloured() -> None:
    words = _grammar_keywords()
    assert words == set(keywords())  # the parser's reading of the same grammar
    _assert_keywords_coloured(_grammar(), words, "(y)")


def _coloured_as_lexed(
    grammar: dict[str, Any], paths: list[Path], lex: Callable[[str], Any], words: set[str]
) -> int:
    """Check the grammar's scopes of each file against its tokens as a lexer reads them; the count."""
    checked = 0
    for path in paths:
        text = path.read_text()
        scopes = _scopes(grammar, text)
        line_starts = [0]
        for line in text.split("\n"):
            line_starts.append(line_starts[-1] + len(line) + 1)
        for token in lex(text):
            assert token.line is not None and token.column is not None
            at = scopes[line_starts[token.line - 1] + token.column - 1]
            where = f"{path.name}:{token.line}:{token.column} {token.type} {str(token)[:20]!r}: {at}"
            if token.type != "NAME" and str(token) in words:
                assert any(s.startswith(("keyword.", "storage.", "constant.language.")) for s in at), where
            elif token.type == "STRING":
                assert any(s.startswith("string.") for s in at), where
            elif token.type in ("QUANTITY", "NUMBER", "DATE"):
                assert any(s.startswith("constant.numeric") for s in at), where
            elif token.type == "NAME":
                assert not any(s.startswith(("keyword.", "storage.", "string.", "comment.")) for s in at), (
                    where
                )
            checked += 1
        # Comments are coloured as comments.
        for number, line in enumerate(text.split("\n"), 1):
            if line.lstrip().startswith("#"):
                at = scopes[line_starts[number - 1] + line.index("#")]
                assert any(s.startswith("comment.") for s in at) or any(s.startswith("string.") for s in at)
    return checked


def test_the_shipped_rules_are_coloured_as_the_lexer_reads_them() -> None:
    paths = sorted(RULES.glob("*.rules"))
    checked = _coloured_as_lexed(_grammar(), paths, lambda text: lark_parser().lex(text), set(keywords()))
    assert checked > 3000  # tokens of the shipped package


def _scenario_keywords() -> set[str]:
    """The keywords of grammar/scenario.lark, read from the grammar text itself."""
    text = (ROOT / "grammar" / "scenario.lark").read_text()
    code = "\n".join(line.split("//", 1)[0] for line in text.split("\n"))
    return set(re.findall(r'"([a-z_]+)"', code)) | {"fault"}


def test_every_keyword_of_the_scenario_grammar_is_coloured() -> None:
    words = _scenario_keywords()
    assert {"scenario", "expect", "trace", "oscillate", "unchanged", "parameters"} <= words
    _assert_keywords_coloured(_grammar("scenario"), words, " 1")


def test_the_shipped_scenarios_are_coloured_as_the_lexer_reads_them() -> None:
    from hpdsl.tools.testing.scenario import _parser

    paths = sorted((RULES / "scenarios").glob("*.scenario"))
    checked = _coloured_as_lexed(
        _grammar("scenario"), paths, lambda text: _parser().lex(text), _scenario_keywords()
    )
    assert checked > 3000  # tokens of the shipped scenarios
