"""Files that ship with hpdsl (the grammar, the code templates), found wherever hpdsl runs from."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # hpdsl/, two up from hpdsl/base/resources.py
# In a source checkout (or an editable install) the package folder sits in the repository root.
_REPO_ROOT = _PACKAGE_DIR.parent


def resource_path(*parts: str) -> Path:
    """The path of a shipped file or folder, e.g. ``resource_path("grammar", "hpdsl.lark")``.

    An installed wheel carries ``grammar/`` and ``targets/`` inside the package; a source
    checkout keeps them at the repository root. The answer never depends on the working folder.
    """
    inside_package = _PACKAGE_DIR.joinpath(*parts)
    if inside_package.exists():
        return inside_package
    return _REPO_ROOT.joinpath(*parts)
