"""The compiled rules as a C extension, for replays of a year of scans: mypyc on the Python target.

The Python target is plain, fully annotated Python (`mypy --strict` holds on it), so mypyc
compiles it as it is: every program becomes a native class whose attributes are C fields, its
scan C code calling C code. The shipped package then scans some 8 times faster than
interpreted (docs/fleet.md), with the same results: the same source, the same arithmetic on
Python floats and ints (tests/test_native.py replays a trend both ways and compares every
point of every scan).

A module is built once for its source text (with the Python and mypyc versions and the
optimisation level in the key) into a cache folder, `$HPDSL_CACHE/native` or
`~/.cache/hpdsl/native`, written beside its final place and renamed into it, so that two
processes building at once both end with one whole module; every process that needs it (the
workers of a Dask cluster on one machine included) imports it from there. Building needs mypyc
(the `[fleet]` extra) and a C compiler; without them `compiled` says why, and the caller
replays with the interpreted module.

    python -m hpdsl.sim.native RULES      # build the module of a rules folder ahead of use

May import: hpdsl.base, hpdsl.codegen (to build a rules folder from the command line).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType

# mypyc's optimisation level (gcc's -O3): the build takes about a minute, and is made once.
# HPDSL_NATIVE_OPT chooses another (0 builds in half the time, and runs half as fast).
OPT_LEVEL = "3"


def _opt_level() -> str:
    level = os.environ.get("HPDSL_NATIVE_OPT", OPT_LEVEL)
    return level if level in ("0", "1", "2", "3") else OPT_LEVEL


_LOADED: dict[str, ModuleType] = {}  # per process: a module imported once
# The package name the rules are compiled under for a replay: it is part of the generated source,
# so the fleet and `python -m hpdsl.sim.native` must use the same one to share a build.
PACKAGE_NAME = "replayed_rules"


def cache_root() -> Path:
    """Where built modules are kept: $HPDSL_CACHE/native, else ~/.cache/hpdsl/native."""
    base = os.environ.get("HPDSL_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "hpdsl"
    return root / "native"


def unavailable() -> str:
    """Why no module can be built here ("" when one can)."""
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypyc is not installed (pip install 'hpdsl[fleet]')"
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    if shutil.which(compiler.split()[0]) is None:
        return f"no C compiler (`{compiler.split()[0]}`) on this machine"
    include = sysconfig.get_paths().get("include", "")
    if not (Path(include) / "Python.h").is_file():
        return "the Python headers (Python.h) are not installed"
    return ""


def key_of(source: str) -> str:
    """The cache key of a module: its text, the interpreter, mypyc and the optimisation level."""
    import mypy.version

    digest = hashlib.sha256()
    for part in (source, sys.version, mypy.version.__version__, _opt_level()):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def compiled(source: str) -> ModuleType | str:
    """The module of a generated Python source, built (or found built) and imported; else why not."""
    reason = unavailable()
    if reason:
        return reason
    key = key_of(source)
    if key in _LOADED:
        return _LOADED[key]
    name = f"hpdsl_native_{key}"
    folder = cache_root() / name
    built = _extension(folder, name)
    if built is None:
        problem = _build(source, name, folder)
        if problem:
            return problem
        built = _extension(folder, name)
        if built is None:
            return f"the build left no module in {folder}"
    spec = importlib.util.spec_from_file_location(name, built)
    if spec is None or spec.loader is None:
        return f"cannot import {built}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the generated dataclasses look their module up by name
    spec.loader.exec_module(module)
    _LOADED[key] = module
    return module


def _extension(folder: Path, name: str) -> Path | None:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    path = folder / f"{name}{suffix}"
    return path if path.is_file() else None


def _build(source: str, name: str, folder: Path) -> str:
    """Build the extension into `folder`; the problem as text when the build failed."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{name}-") as staging:
        work = Path(staging)
        (work / f"{name}.py").write_text(source, encoding="utf-8")
        environment = {**os.environ, "MYPYC_OPT_LEVEL": _opt_level()}
        done = subprocess.run(
            [sys.executable, "-m", "mypyc", f"{name}.py"],
            cwd=work,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        built = _extension(work, name)
        if done.returncode != 0 or built is None:
            lines = (done.stdout + done.stderr).strip().splitlines()
            return "mypyc could not build the rules: " + " | ".join(lines[-3:])
        keep = work / "module"
        keep.mkdir()
        built.rename(keep / built.name)
        try:
            keep.rename(folder)
        except OSError:
            if _extension(folder, name) is None:  # not another process's build that won the race
                raise
    return ""


def main(argv: list[str] | None = None) -> int:
    """Build the native module of a rules folder (for a CI cache, or ahead of a fleet run)."""
    import argparse
    import time

    from hpdsl.codegen.compiler import compile_paths

    parser = argparse.ArgumentParser(prog="python -m hpdsl.sim.native", description=main.__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="the rules files or folders")
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason:
        print(f"no native module: {reason}", file=sys.stderr)
        return 2
    result = compile_paths(args.paths, "python", PACKAGE_NAME, source_comments=False)
    if not result.ok or not result.files:
        print("the rules have errors; run `hpdsl check` on them", file=sys.stderr)
        return 1
    source = next(iter(result.files.values()))
    started = time.perf_counter()
    module = compiled(source)
    if isinstance(module, str):
        print(module, file=sys.stderr)
        return 1
    print(f"{module.__file__} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
