"""Names of the rules that the PLC code will show differently: `target-rename`, from `hpdsl check`
and the language server, before anything is compiled.

The Structured Text generator reports the same names when it writes them (with every dialect's
limits, and a number where two names would collide); this reports what the default dialect
(`iec`, as `hpdsl compile --target st` writes it) will change of each name on its own: a
reserved word, a name longer than 31 characters, or characters ST does not take. Each warning
has its caret on the name where it is declared.

May import: hpdsl.base, hpdsl.language.
"""

from __future__ import annotations

from collections.abc import Iterator

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.plc_names import IEC_IDENTIFIER_LIMIT, IEC_RESERVED, first_choice, sanitized
from hpdsl.language import nodes as n

DIALECT = "iec"

# The kinds of declarations the generator names after the rules (the rest it names itself).
_NAMED = (n.Declaration, n.Totalizer, n.Counter, n.Machine, n.Curve)


def target_renames(modules: list[n.Module]) -> list[Diagnostic]:
    """A `target-rename` warning at each name the default PLC dialect writes differently."""
    found: list[Diagnostic] = []
    for ident, written in _names(modules):
        used = first_choice(written)
        if used != written:
            found.append(
                messages.TARGET_RENAME.at(
                    ident.span, name=written, used=used, dialect=DIALECT, hint=_why(written)
                )
            )
    return found


def _names(modules: list[n.Module]) -> Iterator[tuple[n.Ident, str]]:
    """(where it is declared, the name the generator starts from) of every name it takes over."""
    for module in modules:
        for item in module.items:
            if isinstance(item, (n.EnumDecl, n.Program, *_NAMED)):
                yield item.name, item.name.text
            elif isinstance(item, n.Table):
                yield from _columns(item)
            if isinstance(item, n.Program):
                for member in item.items:
                    if isinstance(member, _NAMED):
                        yield member.name, member.name.text
                    elif isinstance(member, n.Table):
                        yield from _columns(member)


def _columns(table: n.Table) -> Iterator[tuple[n.Ident, str]]:
    for column in table.columns:
        yield column, f"{table.name.text}_{column.text}"


def _why(written: str) -> str:
    keep = "rename it in the rules to choose the PLC name yourself"
    if sanitized(written) != written:
        return f"Structured Text names are letters, digits and single underscores; {keep}"
    if len(written) > IEC_IDENTIFIER_LIMIT:
        return f"strict IEC tools take names of at most {IEC_IDENTIFIER_LIMIT} characters; {keep}"
    if written.upper() in IEC_RESERVED:
        return f"`{written}` is a keyword or standard name in Structured Text; {keep}"
    return keep
