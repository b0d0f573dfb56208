"""A scenario's premises: the `assumes` lines, checked against the rules' defaults and a site file.

May import: hpdsl.base, hpdsl.language, hpdsl.compile, hpdsl.tools.testing.scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from hpdsl.base.source import Span
from hpdsl.compile import site as site_
from hpdsl.language.values import Target, Value
from hpdsl.tools.testing import scenario as sc


@dataclass(frozen=True)
class Point:
    """A point of one program instance, with how to read and write it."""

    program: str
    name: str
    kind: str  # input, output, parameter, totalizer, counter, alarm, machine
    attribute: str
    target: Target
    low: float | None = None  # the declared range, for parameters set by a scenario
    high: float | None = None

    @property
    def title(self) -> str:
        return f"{self.program}.{self.name}"


class Resolver(Protocol):
    """What checking the premises needs of the scenario runner's resolver."""

    points: dict[str, dict[str, Point]]

    @property
    def classes(self) -> dict[str, Any]: ...

    def parameter(self, path: sc.PointPath, setting: str) -> tuple[str, Point] | None: ...

    def value(self, value: Value, target: Target, what: str) -> Any: ...

    def name_problem(self, span: Span, problem: str, hint: str | None = None) -> None: ...

    def structure_problem(self, span: Span, problem: str, hint: str | None = None) -> None: ...


def check(
    resolver: Resolver,
    scenario: sc.Scenario,
    site_parameters: site_.SiteParameters | None,
    parameters: dict[str, dict[str, Any]],
) -> tuple[str, str] | None:
    """Whether the scenario's `assumes` hold: None, ("skip", why) or ("fail", why).

    An assumption is checked against the rules' default, where the scenario's own
    `parameter` lines and files leave the parameter alone, and against the `--params` file.
    The default differing is a scenario out of date with its rules (a failure); the site file
    differing means the scenario's premise is not this site's (it is skipped, and says why).
    """
    site = site_parameters.settings if site_parameters is not None else {}
    for assumption in scenario.assumptions:
        found = resolver.parameter(assumption.path, "`assumes`")
        if found is None:
            continue
        program, point = found
        assumed = resolver.value(assumption.value, point.target, f"`assumes {point.title}`")
        if assumed is None:
            continue
        if any(_same_path(setting.path, point) for setting in scenario.parameters):
            resolver.structure_problem(
                assumption.span,
                f"the scenario both sets and assumes `{point.title}`",
                "keep the `parameter` line: it pins the value whatever the site file says",
            )
            continue
        shown = f"`{point.title}` == {_shown(assumed, point)}"
        in_force = parameters.get(program, {}).get(point.name, _default(resolver, program, point))
        setting = site.get(program, {}).get(point.name)
        if setting is not None and not _equal(setting.value, assumed) and _equal(in_force, setting.value):
            return (
                "skip",
                f"assumes {shown}, which the site file sets to {_shown(setting.value, point)}"
                f" ({setting.span.file}:{setting.span.line})",
            )
        if not _equal(in_force, assumed):
            return (
                "fail",
                f"assumes {shown}, but the scenario runs with {_shown(in_force, point)}:"
                " update the `assumes` line, or pin the value with `parameter`",
            )
    return None


def _same_path(path: sc.PointPath, point: Point) -> bool:
    return path.name == point.name and path.program in (None, point.program)


def _default(resolver: Resolver, program: str, point: Point) -> Any:
    cls = resolver.classes[program]
    value = next(p.default for p in cls.POINTS if p.name == point.name)
    return value.name if point.target.kind == "enum" else value


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    return bool(a == b)


def _shown(value: Any, point: Point) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        unit = point.target.unit or ""
        number = f"{value:g}"
        return f"{number}{unit}" if unit in ("C", "F") else f"{number} {unit}".strip()
    return str(value)


def article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
