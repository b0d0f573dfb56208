"""`hpdsl lsp`: the language server for editors, over stdio.

A rules file belongs to a package: the folder that holds it, checked as `hpdsl check
<folder>` would check it, with the editor's text of every open file in place of the text on
disk. Each change re-checks that package (the shipped one takes about a tenth of a second)
and publishes the diagnostics of all its files. Hover, definition, references and completion
come from `hpdsl.tools.lsp.index`, built from the last package that parsed, so that navigation keeps
working while a file is half typed. This module only wires those answers to the protocol.
"""

from __future__ import annotations

import argparse
import functools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from hpdsl import __version__
from hpdsl.base.diagnostics import Diagnostic, Severity
from hpdsl.base.source import SourceFile, Span, discover

if TYPE_CHECKING:
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer

    from hpdsl.check.checker import CheckedPackage
    from hpdsl.tools.lsp.index import OutlineSymbol, PackageIndex

_F = TypeVar("_F", bound=Callable[..., Any])

SCENARIO_SUFFIX = ".scenario"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`hpdsl lsp` takes no arguments: the editor starts it and talks over stdin and stdout."""
    parser.description = (
        "Run the hpdsl language server over stdin/stdout (Language Server Protocol). Editors start "
        "it themselves; see docs/lsp.md and editors/vscode/."
    )


def run(args: argparse.Namespace) -> int:
    """Serve one editor session over stdio until the editor exits or closes stdin."""
    server = build_server()
    server.start_io()
    return 0


# ================================================================================ packages
@dataclass
class PackageState:
    """One package as last checked: its files, the URIs it published to, the last index that parsed."""

    files: dict[str, str]  # source name -> document URI
    sources: dict[str, SourceFile] = field(default_factory=dict)
    published: set[str] = field(default_factory=set)
    package: CheckedPackage | None = None
    index: PackageIndex | None = None


def _package_files(uri: str) -> tuple[str, dict[str, str]]:
    """The package a document belongs to: (a key for it, source name -> URI of each file)."""
    from pygls import uris

    path_text = uris.to_fs_path(uri) if uris.uri_scheme(uri) == "file" else None
    if path_text is None:
        # An unsaved buffer or another scheme: a package of its own.
        return uri, {uri.rstrip("/").rsplit("/", 1)[-1] or "untitled.rules": uri}
    path = Path(path_text)
    root = path.parent
    files, _, _ = discover([root]) if root.is_dir() else ([], [], [])
    if path not in files:
        files.append(path)
    names: dict[str, str] = {}
    for file in sorted(files):
        try:
            name = file.relative_to(root.parent).as_posix()
        except ValueError:
            name = file.name
        names[name] = uri if file == path else (uris.from_fs_path(str(file)) or file.as_uri())
    return str(root), names


def _guarded(log_failure: Callable[[str], None], what: str, empty: object) -> Callable[[_F], _F]:
    """Answer `empty` (and log why) when a request fails, so one bad request never stops the server."""

    def decorate(handler: _F) -> _F:
        @functools.wraps(handler)
        def guarded(params: Any) -> Any:
            try:
                return handler(params)
            except Exception:
                log_failure(what)
                return empty

        return cast(_F, guarded)

    return decorate


def build_server() -> LanguageServer:
    """The language server with every feature registered."""
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer

    from hpdsl.tools.lsp import index as lspindex

    class RulesServer(LanguageServer):
        """The language server with the packages of the documents it has seen."""

        def __init__(self) -> None:
            super().__init__("hpdsl", __version__)
            self.packages: dict[str, PackageState] = {}
            self.package_of_uri: dict[str, str] = {}

        # ---------------------------------------------------------------- checking
        def text_of(self, uri: str, path_name: str) -> SourceFile | Diagnostic | None:
            """The editor's text of an open document, else the file on disk."""
            from hpdsl.base.files import decode, normalised

            document = self.workspace.text_documents.get(uri)
            if document is not None:
                return SourceFile(path_name, normalised(document.source))
            from pygls import uris

            fs_path = uris.to_fs_path(uri)
            if fs_path is None:
                return None
            try:
                data = Path(fs_path).read_bytes()
            except OSError:
                return None
            source, problem = decode(path_name, data)
            return source if source is not None else problem

        def analyse_scenario(self, uri: str) -> None:
            """Check a scenario file as `hpdsl test` would, and publish its diagnostics.

            Its syntax, the names, units and citations it uses against its package, and each
            expectation that does not hold when its scenarios run (`scenario-failed`).
            """
            from pygls import uris

            from hpdsl.base.files import normalised
            from hpdsl.tools.testing import runner as testing

            fs_path = uris.to_fs_path(uri) if uris.uri_scheme(uri) == "file" else None
            path = Path(fs_path) if fs_path else None
            name = path.name if path is not None else uri.rstrip("/").rsplit("/", 1)[-1]
            read = self.text_of(uri, name)
            if not isinstance(read, SourceFile):
                return
            source = SourceFile(name, normalised(read.text))
            report = testing.check_scenario_text(source, path)
            found = testing.editor_diagnostics(report, name)
            state = PackageState({name: uri}, {name: source})
            converted = [self.convert(d, {name: source}, state) for d in found]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=converted)
            )

        def analyse(self, uri: str) -> PackageState:
            """Check the package of a document and publish the diagnostics of all its files."""
            from hpdsl.check.checker import check_package
            from hpdsl.tools.lsp.index import build_index

            key, files = _package_files(uri)
            state = self.packages.get(key)
            if state is None:
                state = self.packages[key] = PackageState(files)
            state.files = files
            for file_uri in files.values():
                self.package_of_uri[file_uri] = key
            sources: dict[str, SourceFile] = {}
            diagnostics: list[Diagnostic] = []
            for name, file_uri in files.items():
                read = self.text_of(file_uri, name)
                if isinstance(read, SourceFile):
                    sources[name] = read
                elif read is not None:
                    diagnostics.append(read)
            package, found = check_package(list(sources.values()))
            diagnostics.extend(found)
            if package is not None and not any(d.is_error for d in found):
                from hpdsl.check.plc_names import target_renames

                diagnostics.extend(target_renames(package.modules))
            if package is not None:
                state.sources = sources
                state.package = package
                state.index = build_index(package, sources)
            elif not state.sources:
                state.sources = sources
            self.publish(state, sources, diagnostics, uri)
            return state

        def publish(
            self, state: PackageState, sources: dict[str, SourceFile], found: list[Diagnostic], checked: str
        ) -> None:
            """Diagnostics of every file that has some, had some, or was just checked ([] clears)."""
            by_uri: dict[str, list[types.Diagnostic]] = {}
            for diagnostic in sorted(found, key=Diagnostic.sort_key):
                file_uri = state.files.get(diagnostic.span.file)
                if file_uri is None:
                    continue
                by_uri.setdefault(file_uri, []).append(self.convert(diagnostic, sources, state))
            for file_uri in sorted(state.published | set(by_uri) | {checked}):
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=file_uri, diagnostics=by_uri.get(file_uri, []))
                )
            state.published = set(by_uri)

        def convert(
            self, diagnostic: Diagnostic, sources: dict[str, SourceFile], state: PackageState
        ) -> types.Diagnostic:
            message = diagnostic.message
            if diagnostic.hint:
                message += f"\nhint: {diagnostic.hint}"
            related: list[types.DiagnosticRelatedInformation] = []
            for note in diagnostic.notes:
                note_uri = state.files.get(note.span.file) if note.span is not None else None
                if note.span is not None and note_uri is not None:
                    location = types.Location(uri=note_uri, range=self.range_of(note.span, sources))
                    related.append(
                        types.DiagnosticRelatedInformation(location=location, message=note.message)
                    )
                else:
                    message += f"\nnote: {note.message}"
            severity = {
                Severity.ERROR: types.DiagnosticSeverity.Error,
                Severity.WARNING: types.DiagnosticSeverity.Warning,
                Severity.NOTE: types.DiagnosticSeverity.Information,
            }[diagnostic.severity]
            return types.Diagnostic(
                range=self.range_of(diagnostic.span, sources),
                message=message,
                severity=severity,
                code=diagnostic.code,
                source="hpdsl",
                related_information=related or None,
            )

        # ---------------------------------------------------------------- positions
        def range_of(self, span: Span, sources: dict[str, SourceFile]) -> types.Range:
            """Our 1-based span in code points as an LSP range in the client's units (UTF-16 by default)."""
            source = sources.get(span.file)
            lines = list(source.lines) if source is not None else [""]
            start_line, start_column = max(span.line, 1), max(span.column, 1)
            end_line, end_column = max(span.end_line, start_line), max(span.end_column, 1)
            if (end_line, end_column) < (start_line, start_column):
                end_line, end_column = start_line, start_column
            server_range = types.Range(
                start=types.Position(line=start_line - 1, character=start_column - 1),
                end=types.Position(line=end_line - 1, character=end_column - 1),
            )
            if start_line > len(lines):
                return server_range
            codec = self.workspace.position_codec
            return codec.range_to_client_units(lines, server_range)

        def location(self, span: Span, state: PackageState) -> types.Location | None:
            uri = state.files.get(span.file)
            if uri is None:
                return None
            return types.Location(uri=uri, range=self.range_of(span, state.sources))

        def position(self, uri: str, position: types.Position) -> tuple[int, int]:
            """A client position in a document as our 1-based line and column."""
            document = self.workspace.get_text_document(uri)
            server = self.workspace.position_codec.position_from_client_units(document.lines, position)
            return server.line + 1, server.character + 1

        def state_of(self, uri: str) -> PackageState:
            key = self.package_of_uri.get(uri)
            state = self.packages.get(key) if key is not None else None
            return state if state is not None else self.analyse(uri)

        def name_of(self, uri: str, state: PackageState) -> str | None:
            return next((name for name, file_uri in state.files.items() if file_uri == uri), None)

        def log_failure(self, what: str) -> None:
            self.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Error, message=f"hpdsl: {what} failed\n{traceback.format_exc()}"
                )
            )

    server = RulesServer()

    def reanalyse(uri: str) -> None:
        if uri.endswith(SCENARIO_SUFFIX):
            server.analyse_scenario(uri)
        else:
            server.analyse(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @_guarded(server.log_failure, "checking the package", None)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        reanalyse(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @_guarded(server.log_failure, "checking the package", None)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        reanalyse(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @_guarded(server.log_failure, "checking the package", None)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        reanalyse(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @_guarded(server.log_failure, "checking the package", None)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        # The text on disk is the package's again.
        reanalyse(params.text_document.uri)

    def where(params: Any) -> tuple[PackageState, str, int, int] | None:
        uri = params.text_document.uri
        if uri.endswith(SCENARIO_SUFFIX):
            return None  # a scenario file gets diagnostics only
        state = server.state_of(uri)
        name = server.name_of(uri, state)
        if name is None:
            return None
        line, column = server.position(uri, params.position)
        return state, name, line, column

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @_guarded(server.log_failure, "hover", None)
    def hover(params: types.HoverParams) -> types.Hover | None:
        found = where(params)
        if found is None or found[0].index is None:
            return None
        state, name, line, column = found
        assert state.index is not None
        answer = state.index.hover(name, line, column)
        if answer is None:
            return None
        text, span = answer
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=server.range_of(span, state.sources),
        )

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @_guarded(server.log_failure, "go to definition", None)
    def definition(params: types.DefinitionParams) -> types.Location | None:
        found = where(params)
        if found is None or found[0].index is None:
            return None
        state, name, line, column = found
        assert state.index is not None
        span = state.index.definition(name, line, column)
        return server.location(span, state) if span is not None else None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @_guarded(server.log_failure, "find references", [])
    def references(params: types.ReferenceParams) -> list[types.Location]:
        found = where(params)
        if found is None or found[0].index is None:
            return []
        state, name, line, column = found
        assert state.index is not None
        spans = state.index.references(name, line, column, params.context.include_declaration)
        locations = [server.location(span, state) for span in spans]
        return [location for location in locations if location is not None]

    completion_kinds = {
        "keyword": types.CompletionItemKind.Keyword,
        "unit": types.CompletionItemKind.Unit,
        "member": types.CompletionItemKind.EnumMember,
        "state": types.CompletionItemKind.EnumMember,
        "function": types.CompletionItemKind.Function,
        "curve": types.CompletionItemKind.Function,
        "table": types.CompletionItemKind.Struct,
        "column": types.CompletionItemKind.Field,
        "type": types.CompletionItemKind.TypeParameter,
        "enum": types.CompletionItemKind.Enum,
        "program": types.CompletionItemKind.Module,
        "machine": types.CompletionItemKind.Class,
        "const": types.CompletionItemKind.Constant,
        "parameter": types.CompletionItemKind.Property,
        "requirement": types.CompletionItemKind.Reference,
        "event": types.CompletionItemKind.Event,
        "alarm": types.CompletionItemKind.Event,
    }

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", " "]))
    @_guarded(server.log_failure, "completion", None)
    def completion(params: types.CompletionParams) -> types.CompletionList | None:
        uri = params.text_document.uri
        if uri.endswith(SCENARIO_SUFFIX):
            return None
        state = server.state_of(uri)
        line, column = server.position(uri, params.position)
        text = server.workspace.get_text_document(uri).source.replace("\r\n", "\n")
        entries = lspindex.complete(state.package, text, line, column)
        items = [
            types.CompletionItem(
                label=entry.label,
                kind=completion_kinds.get(entry.kind, types.CompletionItemKind.Variable),
                detail=entry.detail or None,
                sort_text=f"{index:04d}",
            )
            for index, entry in enumerate(entries)
        ]
        return types.CompletionList(is_incomplete=False, items=items)

    symbol_kinds = {
        "program": types.SymbolKind.Module,
        "input": types.SymbolKind.Variable,
        "output": types.SymbolKind.Variable,
        "var": types.SymbolKind.Variable,
        "parameter": types.SymbolKind.Property,
        "const": types.SymbolKind.Constant,
        "enum": types.SymbolKind.Enum,
        "member": types.SymbolKind.EnumMember,
        "machine": types.SymbolKind.Class,
        "state": types.SymbolKind.EnumMember,
        "rule": types.SymbolKind.Method,
        "hysteresis": types.SymbolKind.Method,
        "alarm": types.SymbolKind.Event,
        "event": types.SymbolKind.Event,
        "table": types.SymbolKind.Struct,
        "curve": types.SymbolKind.Function,
        "requirement": types.SymbolKind.Key,
        "totalizer": types.SymbolKind.Field,
        "counter": types.SymbolKind.Field,
        "schedule": types.SymbolKind.Field,
    }

    def document_symbol_of(entry: OutlineSymbol, sources: dict[str, SourceFile]) -> types.DocumentSymbol:
        return types.DocumentSymbol(
            name=entry.name,
            detail=entry.detail,
            kind=symbol_kinds.get(entry.kind, types.SymbolKind.Object),
            range=server.range_of(entry.span, sources),
            selection_range=server.range_of(entry.selection, sources),
            children=[document_symbol_of(child, sources) for child in entry.children] or None,
        )

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_guarded(server.log_failure, "document symbols", [])
    def document_symbols(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        from hpdsl.language.parser import parse_source

        uri = params.text_document.uri
        if uri.endswith(SCENARIO_SUFFIX):
            return []
        state = server.state_of(uri)
        name = server.name_of(uri, state) or uri
        text = server.workspace.get_text_document(uri).source.replace("\r\n", "\n")
        source = SourceFile(name, text)
        parsed = parse_source(source)
        module = parsed.module
        sources = {name: source}
        if module is None and state.package is not None:
            # Half-typed: the outline of the last version that parsed.
            module = next((m for m in state.package.modules if m.file == name), None)
            sources = state.sources
        if module is None:
            return []
        return [document_symbol_of(entry, sources) for entry in lspindex.outline(module)]

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @_guarded(server.log_failure, "formatting", [])
    def formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        from hpdsl.tools import fmt

        format_text = getattr(fmt, "format_text", None)
        if format_text is None:
            return []
        uri = params.text_document.uri
        if uri.endswith(SCENARIO_SUFFIX):
            return []
        document = server.workspace.get_text_document(uri)
        text = document.source
        state = server.state_of(uri)
        name = server.name_of(uri, state) or uri
        result = format_text(text.replace("\r\n", "\n"), name)
        if result.text is None or result.text == text:
            return []  # a syntax error (already shown as a diagnostic), or nothing to change
        lines = document.lines
        if not lines or text.endswith("\n"):
            end = types.Position(line=len(lines), character=0)
        else:
            last = types.Position(line=len(lines) - 1, character=len(lines[-1]))
            end = server.workspace.position_codec.position_to_client_units(lines, last)
        whole = types.Range(start=types.Position(line=0, character=0), end=end)
        return [types.TextEdit(range=whole, new_text=result.text)]

    return server
