"""Comparing what two sites run with: the parameters' values in force on each side.

A side is a rules package and, optionally, a site parameter file (`hpdsl diff --params`,
`--old-params`, `--new-params`). The value in force is the site's where it sets one, else the
rules' default. A parameter whose value in force differs, and that a site file sets on either
side, is one change; a default changed in the rules and set by no site file is the rules'
comparison's to report (`hpdsl.tools.diff.compare`).

May import: hpdsl.base, hpdsl.language, hpdsl.compile, hpdsl.tools.diff.common.
"""

from __future__ import annotations

from dataclasses import dataclass

from hpdsl.compile import ir
from hpdsl.compile.site import SiteParameters
from hpdsl.language import units
from hpdsl.tools.diff.common import Change, Group, moved_by


@dataclass(frozen=True)
class InForce:
    """A parameter's value in force on one side, and where it comes from."""

    value: bool | int | float | str
    unit: str  # the declared unit ("" for none)
    location: str  # the site file's line, or the declaration's
    from_site: bool
    cites: tuple[str, ...]


def in_force(package: ir.Package, site: SiteParameters | None) -> dict[tuple[str, str], InForce]:
    """(program, parameter) -> the value in force, for every parameter of the package."""
    found: dict[tuple[str, str], InForce] = {}
    for program in package.programs:
        settings = site.settings.get(program.name, {}) if site is not None else {}
        for variable in program.of_role("parameter"):
            unit = variable.type.unit or ""
            setting = settings.get(variable.name)
            if setting is not None:
                value = setting.value
                location = f"{setting.span.file}:{setting.span.line}"
            else:
                assert variable.initial is not None
                folded = _fold(variable.initial)
                if folded is None:
                    continue  # not a fixed value: no site file sets it on this side
                value = folded
                location = variable.origin.describe() if variable.origin is not None else program.name
            found[(program.name, variable.name)] = InForce(
                value, unit, location, setting is not None, variable.cites
            )
    return found


def _fold(expr: ir.Expr) -> bool | int | float | str | None:
    """A default's value: a literal, or arithmetic on literals (`4.18 kJ/l / 1 K`)."""
    if isinstance(expr, ir.Literal_):
        return expr.value
    if isinstance(expr, ir.Unary) and expr.op == "-":
        inner = _fold(expr.operand)
        return -inner if isinstance(inner, int | float) and not isinstance(inner, bool) else None
    if isinstance(expr, ir.Binary) and expr.op in ("+", "-", "*", "/"):
        left, right = _fold(expr.left), _fold(expr.right)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)):
            return None
        a, b = float(left), float(right)  # type: ignore[arg-type]
        if expr.op == "/":
            return a / b if b else None
        return {"+": a + b, "-": a - b, "*": a * b}[expr.op]
    return None


def site_changes(old: dict[tuple[str, str], InForce], new: dict[tuple[str, str], InForce]) -> list[Group]:
    """The parameters whose value in force differs and that a site file sets on either side."""
    groups: dict[str, list[Change]] = {}
    for key in sorted(old.keys() & new.keys()):
        before, after = old[key], new[key]
        if not (before.from_site or after.from_site) or _same(before, after):
            continue
        program, parameter = key
        moved = _moved(before, after)
        if before.from_site and after.from_site:
            description = f"site value {_show(before)} -> {_show(after)}{moved}"
        elif after.from_site:
            description = f"set by the site to {_show(after)}, was the default {_show(before)}{moved}"
        else:
            description = f"no longer set by the site: the default {_show(after)}, was {_show(before)}{moved}"
        group = f"site values of program {program}"
        groups.setdefault(group, []).append(
            Change(
                group=group,
                subject=f"parameter `{parameter}`",
                description=description,
                location=after.location if after.from_site else before.location,
                removed=not after.from_site,
                cites=after.cites,
                behaviour=True,
            )
        )
    return [Group(title, tuple(changes)) for title, changes in groups.items()]


def _same(a: InForce, b: InForce) -> bool:
    if isinstance(a.value, bool | str) or isinstance(b.value, bool | str):
        return a.value == b.value and a.unit == b.unit
    difference = _in_unit(b, a.unit)
    return difference is not None and abs(difference - float(a.value)) <= 1e-9 * max(abs(a.value), 1.0)


def _in_unit(value: InForce, unit: str) -> float | None:
    """`value` in another unit of its quantity (a unit changed in the rules), None if not one."""
    assert not isinstance(value.value, bool | str)
    source, target = units.lookup(value.unit) or units.NUMBER, units.lookup(unit) or units.NUMBER
    try:
        scale, offset = source.factor_to(target)
    except units.UnitError:
        return None
    return float(value.value) * scale + offset


def _show(value: InForce) -> str:
    if isinstance(value.value, bool):
        return "true" if value.value else "false"
    if isinstance(value.value, str):
        return value.value
    unit = units.lookup(value.unit) or units.NUMBER
    return f"`{units.format_quantity(float(value.value), unit)}`"


def _moved(before: InForce, after: InForce) -> str:
    """How far a number moved, in the new side's unit: " (lowered by 2 K)"."""
    if isinstance(before.value, bool | str) or isinstance(after.value, bool | str):
        return ""
    old = _in_unit(before, after.unit)
    if old is None:
        return ""
    return moved_by(float(after.value) - old, units.lookup(after.unit) or units.NUMBER)
