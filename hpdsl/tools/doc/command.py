"""`hpdsl doc PATH... -o OUTDIR`: the package as a sequence-of-operations document.

Writes `OUTDIR/<name>.md` (GitHub-flavoured Markdown, Mermaid state diagrams) and
`OUTDIR/<name>.html` (one self-contained page: inline style and SVG diagrams, no scripts, no
network), both from one document model (`build.py`). The output is the same bytes for
the same rules from any working folder. A package with errors writes nothing and exits 1.
An existing output folder that holds files `hpdsl doc` did not write is left alone unless
`--force`; even then only the two document files are written, nothing is deleted.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import UsageError, has_marker, write_if_changed
from hpdsl.base.source import SourceFile
from hpdsl.tools.doc.model import Document

EXIT_OK = 0
EXIT_ERRORS = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hpdsl doc`."""
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        type=Path,
        help="rules files or folders of them; scenario files under them fill the traceability matrix",
    )
    parser.add_argument(
        "-o", "--output", metavar="OUTDIR", type=Path, required=True, help="folder to write the document to"
    )
    parser.add_argument(
        "--name",
        help="document name (the files are NAME.md and NAME.html); default: the folder given, else `rules`",
    )
    parser.add_argument(
        "--params",
        metavar="FILE",
        type=Path,
        help="a site parameter file (TOML) whose values are shown in place of the parameters' defaults",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into OUTDIR even if it holds files hpdsl doc did not write",
    )


@dataclass
class DocResult:
    """What building the document produced: the files by name, or the diagnostics that stopped it."""

    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.files) and not any(d.is_error for d in self.diagnostics)


def build(paths: list[Path], name: str | None = None, params: Path | None = None) -> DocResult:
    """Check the package under `paths` and write its document (name -> text), or say why not."""
    from hpdsl.check.checker import check_package
    from hpdsl.check.package import load_paths
    from hpdsl.codegen import compiler
    from hpdsl.compile.lower import LoweringError, lower_package
    from hpdsl.tools.doc import build as doc_build
    from hpdsl.tools.doc import render as doc_render
    from hpdsl.tools.testing import trace

    result = DocResult()
    loaded = load_paths(paths)
    result.sources.update(loaded.sources)
    result.diagnostics.extend(loaded.diagnostics)
    if any(d.is_error for d in loaded.diagnostics):
        return _sorted(result)
    checked, found = check_package(list(loaded.sources.values()))
    result.diagnostics.extend(found)
    if checked is None or any(d.is_error for d in result.diagnostics):
        return _sorted(result)
    doc_name = name or compiler.package_name(paths)
    rules_names = compiler.source_names(paths)
    try:
        package = lower_package(checked, doc_name, rules_names)
    except LoweringError as exc:
        result.diagnostics.extend(exc.diagnostics)
        return _sorted(result)
    site_values: dict[tuple[str, str], str] = {}
    site_name = None
    if params is not None:
        from hpdsl.compile import site

        settings = site.read(params, package, checked.modules)
        if settings.source is not None:
            result.sources[settings.name] = settings.source
        result.diagnostics.extend(settings.diagnostics)
        if not settings.ok:
            return _sorted(result)
        site_values = _site_values(settings, checked)
        site_name = Path(settings.name).name
    traced = trace.trace_checked(paths, loaded, checked, found)
    result.diagnostics.extend(
        d for d in traced.diagnostics if d.is_error and d.span.file not in loaded.sources
    )
    result.sources.update(traced.sources)
    if any(d.is_error for d in result.diagnostics):
        return _sorted(result)
    inputs = doc_build.Inputs(
        doc_name, checked, package, dict(traced.sources), traced, site_values, site_name
    )
    names = doc_build.stable_names(traced.sources, rules_names)
    document: Document = doc_build.DocumentBuilder(inputs, names).build()
    result.files[f"{doc_name}.md"] = doc_render.markdown(document)
    result.files[f"{doc_name}.html"] = doc_render.html_page(document)
    return _sorted(result)


def _sorted(result: DocResult) -> DocResult:
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _site_values(settings: object, checked: object) -> dict[tuple[str, str], str]:
    """Each site setting written as the rules write values: `22C`, `2 h`, `Ground`, `true`."""
    from hpdsl.check.checker import CheckedPackage
    from hpdsl.compile.site import SiteParameters
    from hpdsl.language import units
    from hpdsl.language.types import QuantityType

    assert isinstance(settings, SiteParameters) and isinstance(checked, CheckedPackage)
    values: dict[tuple[str, str], str] = {}
    for program, by_name in sorted(settings.settings.items()):
        scope = checked.program_scopes.get(program)
        for parameter, setting in sorted(by_name.items()):
            symbol = scope.symbols.get(parameter) if scope is not None else None
            value = setting.value
            if isinstance(value, bool):
                shown = "true" if value else "false"
            elif (
                isinstance(value, (int, float))
                and symbol is not None
                and isinstance(symbol.type, QuantityType)
            ):
                shown = units.format_quantity(float(value), symbol.type.unit)
            else:
                shown = str(value)
            values[(program, parameter)] = shown
    return values


def foreign_files(out: Path) -> list[Path]:
    """The entries of an existing output folder that `hpdsl doc` did not write (by their marker line)."""
    from hpdsl.tools.doc.render import MARKER

    found: list[Path] = []
    for entry in sorted(out.iterdir()):
        if not entry.is_file() or entry.suffix not in (".md", ".html") or not has_marker(entry, MARKER):
            found.append(entry)
    return found


def write(out: Path, files: dict[str, str], force: bool) -> None:
    """Write the document files into `out`, refusing a folder with files of someone else's."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"`{out}` exists and is not a folder")
    if out.is_dir() and not force:
        foreign = foreign_files(out)
        if foreign:
            shown = ", ".join(f"`{p}`" for p in foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise UsageError(
                f"will not write into `{out}`: it holds files hpdsl doc did not write ({shown}); "
                "choose an empty or new folder, or use --force to write the document beside them"
            )
    out.mkdir(parents=True, exist_ok=True)
    for file, content in sorted(files.items()):
        path = out / file
        if path.is_dir():
            raise UsageError(f"cannot write `{path}`: it is a folder")
        write_if_changed(path, content)


def run(args: argparse.Namespace) -> int:
    """`hpdsl doc`: build the document and write it, or print why it cannot be written."""
    name: str | None = args.name
    if name is not None and (not name or "/" in name or "\\" in name or name.startswith(".")):
        raise UsageError(f"--name `{name}` is not a file name (no folders, not starting with a dot)")
    result = build(args.paths, name, args.params)
    if result.diagnostics:
        from hpdsl.base.render import report

        stream = sys.stderr
        report(result.diagnostics, result.sources, stream)
    if not result.ok:
        return EXIT_ERRORS
    write(args.output, result.files, args.force)
    print(f"wrote {len(result.files)} file(s) to {args.output}: " + ", ".join(sorted(result.files)))
    return EXIT_OK
