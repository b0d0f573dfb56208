"""`hpdsl compile`: check a package, lower it once, and write the chosen target's files.

Output is deterministic: the same rules give the same bytes whatever the machine, the
working folder or the hash seed. Source files are named relative to the folder that holds
the package (`rules/defrost.rules`), never by an absolute path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import itertools
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import SourceFile, discover
from hpdsl.check.package import CheckResult, load_paths
from hpdsl.compile import ir
from hpdsl.language import nodes as n


@dataclass
class CompileResult:
    """What compiling produced: the checked files, diagnostics, and the generated files by name."""

    check: CheckResult
    package: ir.Package | None = None
    files: dict[str, str] = field(default_factory=dict)
    site_sources: dict[str, SourceFile | None] = field(
        default_factory=dict
    )  # a site file read, for diagnostics
    modules: list[n.Module] = field(default_factory=list)  # the checked modules, for a site file's checks

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.check.diagnostics

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.check.diagnostics) and self.package is not None


def package_name(paths: list[Path]) -> str:
    """The default package (and module) name: the folder given, or `rules`."""
    if len(paths) == 1:
        path = paths[0].resolve()
        stem = path.name if path.is_dir() else path.stem
        name = re.sub(r"\W", "_", stem).strip("_").lower()
        if name and not name[0].isdigit():
            return name
    return "rules"


def source_names(paths: list[Path]) -> dict[str, str]:
    """Display name -> stable name of each rules file: relative to the parent of the package folder."""
    from hpdsl.base.source import display_name

    files, _, _ = discover(paths)
    if not files:
        return {}
    folders = [str(f.resolve().parent) for f in files]
    root = Path(os.path.commonpath(folders)).parent
    return {display_name(f): Path(os.path.relpath(f.resolve(), root)).as_posix() for f in files}


def lower_paths(paths: list[Path], name: str | None = None) -> CompileResult:
    """Load, check and lower a package; `package` is None when the rules have errors."""
    from hpdsl.check.checker import check_package
    from hpdsl.compile.lower import LoweringError, lower_package

    check = load_paths(paths)
    result = CompileResult(check)
    if any(d.is_error for d in check.diagnostics):
        return result
    checked, diagnostics = check_package(list(check.sources.values()))
    check.diagnostics.extend(diagnostics)
    check.diagnostics.sort(key=Diagnostic.sort_key)
    if checked is None or any(d.is_error for d in check.diagnostics):
        return result
    result.modules = checked.modules
    try:
        result.package = lower_package(checked, name or package_name(paths), source_names(paths))
    except LoweringError as exc:
        check.diagnostics.extend(exc.diagnostics)
        check.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def compile_paths(
    paths: list[Path],
    target: str,
    name: str | None = None,
    *,
    source_comments: bool = True,
    dialect: str | None = None,
    real: str = "LREAL",
    params: Path | None = None,
    identifier_limit: int | None = None,
) -> CompileResult:
    """Compile a package to a target; the generated files are in `files` (name -> text).

    `dialect` chooses the Structured Text flavour of the `st` target; `real` is the ST type
    of real numbers (REAL or LREAL) for `st` and `plcopen`; `params` is a site parameter
    file whose values become the parameters' defaults in the generated code;
    `identifier_limit` overrides the dialect's longest identifier (0: none) for `st` and `plcopen`.
    """
    import hpdsl

    result = lower_paths(paths, name)
    if result.package is None:
        return result
    if params is not None:
        from hpdsl.compile import site

        settings = site.read(params, result.package, result.modules)
        result.site_sources[settings.name] = settings.source
        result.check.diagnostics.extend(settings.diagnostics)
        if not settings.ok:
            return result
        # The build names its site file and the SHA-256 of its bytes (what `sha256sum` prints).
        stamp = (settings.name, hashlib.sha256(params.read_bytes()).hexdigest())
        result.package = dataclasses.replace(site.apply(result.package, settings), site=stamp)
    if target == "python":
        from hpdsl.codegen.python import PythonGenerator

        text = PythonGenerator(result.package, source_comments=source_comments).generate(hpdsl.__version__)
        result.files[f"{result.package.name}.py"] = text
    elif target in ("st", "plcopen"):
        from hpdsl.codegen.plcopen import PlcopenGenerator
        from hpdsl.codegen.st import GENERATORS, StGenerator

        kind: type[StGenerator] = PlcopenGenerator if target == "plcopen" else GENERATORS[dialect or "iec"]
        generator = kind(
            result.package, real=real, source_comments=source_comments, identifier_limit=identifier_limit
        )
        output = generator.generate(hpdsl.__version__)
        result.check.diagnostics.extend(_displayed(output.diagnostics, paths))
        result.check.diagnostics.sort(key=Diagnostic.sort_key)
        if not any(d.is_error for d in output.diagnostics):
            result.files.update(output.files)
    else:
        raise ValueError(f"unknown target {target}")
    return result


def _displayed(found: list[Diagnostic], paths: list[Path]) -> list[Diagnostic]:
    """Generator diagnostics point at stable source names; show them by the names the user gave."""
    from dataclasses import replace

    display = {stable: shown for shown, stable in source_names(paths).items()}
    return [replace(d, span=replace(d.span, file=display.get(d.span.file, d.span.file))) for d in found]


_module_counter = itertools.count(1)


def import_generated(text: str, prefix: str = "_hpdsl_rules") -> ModuleType:
    """Import the text of a generated Python module as a fresh module of its own."""
    name = f"{prefix}_{next(_module_counter)}"
    with tempfile.TemporaryDirectory(prefix="hpdsl-") as folder:
        path = Path(folder) / f"{name}.py"
        path.write_text(text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return module
