"""What the compiler and the document writer make of the shipped package, pinned byte for byte.

`tests/data/golden/shipped.sha256` lists the SHA-256 of every file `hpdsl compile` writes for
each target and dialect, and `hpdsl doc` writes, for `rules/`. A change to the code that is not
meant to change any output (a refactoring, a move between modules) must leave every digest as it
is. After a deliberate change to an output, review the diff of the generated files and write the
list again:

    python tests/test_shipped_golden.py > tests/data/golden/shipped.sha256
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

from hpdsl import cli

ROOT = Path(__file__).resolve().parent.parent
LISTING = Path(__file__).resolve().parent / "data" / "golden" / "shipped.sha256"

RUNS = (
    ("python", ["compile", "rules", "--target", "python"]),
    ("iec", ["compile", "rules", "--target", "st", "--dialect", "iec"]),
    ("codesys", ["compile", "rules", "--target", "st", "--dialect", "codesys"]),
    ("siemens", ["compile", "rules", "--target", "st", "--dialect", "siemens"]),
    ("plcopen", ["compile", "rules", "--target", "plcopen"]),
    ("doc", ["doc", "rules"]),
)


def digests(work: Path) -> dict[str, str]:
    """`run/file` -> SHA-256 of every file written, the rules read from the repository as `rules`."""
    import contextlib
    import io
    import os

    found: dict[str, str] = {}
    previous = Path.cwd()
    os.chdir(ROOT)  # file names in the outputs are relative to where the command runs
    try:
        for name, arguments in RUNS:
            out = work / name
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = cli.main([*arguments, "-o", str(out)])
            assert code == 0, name
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    found[f"{name}/{path.relative_to(out).as_posix()}"] = hashlib.sha256(
                        path.read_bytes()
                    ).hexdigest()
    finally:
        os.chdir(previous)
    return found


def listing(found: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(found.items()))


def test_every_output_of_the_shipped_package_is_as_pinned(tmp_path: Path) -> None:
    expected = LISTING.read_text(encoding="utf-8")
    assert listing(digests(tmp_path)) == expected


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        sys.stdout.write(listing(digests(Path(folder))))
