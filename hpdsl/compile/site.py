"""Site parameter files: a site's settings of the package's parameters, without editing the rules.

The format is TOML (read with the standard library's `tomllib`): one table per program, one
key per parameter, the value written as in the rules, units included::

    [Changeover]
    cooling_above = "22 C"
    heating_below = "14C"

    [DefrostControl]
    defrost_strategy = "TimeBased"
    defrost_interval = "2 h"        # any unit of the same quantity; converted to min

    [AuxHeat]
    aux_stage_1_factor = 0.7        # a plain number needs no quotes

Every value is converted to the unit the rules declare and checked against the parameter's
range, so a site file cannot set what the rules would reject. `docs/site-parameters.md`
describes the format; `hpdsl check --params`, `hpdsl compile --params` and `hpdsl test
--params` read it.
"""

from __future__ import annotations

import dataclasses
import decimal
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import UsageError, read_checked
from hpdsl.base.source import SourceFile, Span
from hpdsl.check.scope import SiteValue, SiteValues
from hpdsl.compile import ir
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.consteval import Const
from hpdsl.language.values import Target, Value, ValueProblem, convert, from_text, range_problem

SettingValue = bool | int | float | str


@dataclass(frozen=True)
class Setting:
    """One parameter a site sets, in the unit the rules declare (an enumeration member by name)."""

    program: str
    parameter: str
    value: SettingValue
    span: Span


@dataclass
class SiteParameters:
    """What a site file sets, by program and parameter, and what was wrong with it."""

    name: str
    settings: dict[str, dict[str, Setting]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: SourceFile | None = None

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def for_program(self, program: str) -> dict[str, SettingValue]:
        return {name: setting.value for name, setting in self.settings.get(program, {}).items()}


@dataclass(frozen=True)
class _Entry:
    program: str
    parameter: str
    raw: object
    table_span: Span
    key_span: Span
    value_span: Span


def read(path: Path, package: ir.Package, modules: Sequence[n.Module] = ()) -> SiteParameters:
    """Read a site file and check it against the package; problems become diagnostics.

    With the package's checked `modules`, every check of values runs again with the site's
    values (see `check`).
    """
    if not path.is_file():
        raise UsageError(f"no such site parameter file: `{path}`")
    return read_checked(path, SiteParameters, lambda source: check(source, package, modules))


def check(source: SourceFile, package: ir.Package, modules: Sequence[n.Module] = ()) -> SiteParameters:
    """The settings of a site file's text, checked against the package.

    Each value is checked on its own (type, unit, range); with the package's checked
    `modules`, the rules' checks of values (hysteresis order, ranges, division by zero,
    `require`) then run with the site's values, and what they break is reported at the
    value's line in the site file.
    """
    result = SiteParameters(source.name, source=source)
    entries = _entries(source, result.diagnostics)
    programs = {program.name: program for program in package.programs}
    enums = {enum.name: enum.members for enum in package.enums}
    for entry in entries:
        program = programs.get(entry.program)
        if program is None:
            result.diagnostics.append(
                messages.SITE_PARAMETER.at(
                    entry.table_span,
                    problem=f"the package has no program `{entry.program}`",
                    hint=messages.did_you_mean(entry.program, programs),
                )
            )
            continue
        parameters = {v.name: v for v in program.of_role("parameter")}
        variable = parameters.get(entry.parameter)
        if variable is None:
            result.diagnostics.append(
                messages.SITE_PARAMETER.at(
                    entry.key_span,
                    problem=f"program `{entry.program}` has no parameter `{entry.parameter}`",
                    hint=messages.did_you_mean(entry.parameter, parameters),
                )
            )
            continue
        target = target_of(variable.type, enums)
        try:
            value = convert(toml_value(entry.raw, entry.value_span), target)
        except ValueProblem as exc:
            result.diagnostics.append(
                messages.SITE_VALUE.at(
                    entry.value_span,
                    problem=f"`{entry.program}.{entry.parameter}`: {exc.problem}",
                    hint=exc.hint or f"write {target.describe()}",
                )
            )
            continue
        out_of_range = range_problem(value, _number(variable.low), _number(variable.high), variable.type.unit)
        if out_of_range:
            result.diagnostics.append(
                messages.SITE_VALUE.at(
                    entry.value_span,
                    problem=f"`{entry.program}.{entry.parameter}`: {out_of_range}",
                    hint="the rules declare this range; a value outside it is rejected on the controller too",
                )
            )
            continue
        result.settings.setdefault(entry.program, {})[entry.parameter] = Setting(
            entry.program, entry.parameter, value, entry.value_span
        )
    if modules and result.ok and result.settings:
        from hpdsl.check.checker import check_site

        result.diagnostics.extend(check_site(list(modules), check_values(result, package)))
    return result


def check_values(site: SiteParameters, package: ir.Package) -> SiteValues:
    """The site's values as the checker computes with them: numbers in SI units."""
    variables = {
        (program.name, v.name): v for program in package.programs for v in program.of_role("parameter")
    }
    found: dict[tuple[str, str], SiteValue] = {}
    for program, settings in site.settings.items():
        for name, setting in settings.items():
            value = setting.value
            const: Const
            if isinstance(value, bool | str):
                const = Const(value)
            else:
                unit = units.lookup(variables[(program, name)].type.unit or "") or units.NUMBER
                const = Const(unit.to_si(float(value)), unit)
            found[(program, name)] = SiteValue(const, setting.span, f"{program}.{name}")
    return found


def target_of(type_: ir.ValueType, enums: dict[str, tuple[str, ...]]) -> Target:
    """The conversion target of a value of this IR type."""
    if type_.kind == "enum":
        assert type_.enum is not None
        return Target("enum", members=enums[type_.enum], enum=type_.enum)
    return Target(type_.kind, type_.unit)


def apply(package: ir.Package, site: SiteParameters) -> ir.Package:
    """The package with the site's values as the parameters' defaults (what a PLC starts with)."""
    programs = []
    for program in package.programs:
        settings = site.settings.get(program.name, {})
        if not settings:
            programs.append(program)
            continue
        variables = tuple(
            dataclasses.replace(variable, initial=ir.Literal_(variable.type, settings[variable.name].value))
            if variable.role == "parameter" and variable.name in settings
            else variable
            for variable in program.variables
        )
        programs.append(dataclasses.replace(program, variables=variables))
    return dataclasses.replace(package, programs=tuple(programs))


# --- Reading the TOML ---------------------------------------------------------------------

_TABLE = re.compile(r"\s*\[\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s*\.[^\]]*)?\s*\]")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")
TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


# Deeper nesting than this is no parameter file; tomllib would recurse until Python's stack ends.
MAX_TOML_NESTING = 32
# Python refuses to read an integer of more digits than this (sys.get_int_max_str_digits()).
_LONG_DIGITS = re.compile(r"[0-9_]{4301,}")


def load_toml(
    source: SourceFile, message: messages.Message, hint: str, diagnostics: list[Diagnostic]
) -> dict[str, object] | None:
    """A TOML file's data; None, with a diagnostic at the position of the problem, if it is not valid TOML."""
    too_deep = _nesting_beyond(source.text, MAX_TOML_NESTING)
    if too_deep is not None:
        line, column = too_deep
        diagnostics.append(
            message.at(
                Span.point(source.name, line, column),
                problem=f"arrays or tables nested more than {MAX_TOML_NESTING} deep",
                hint='a parameter file holds values; a curve is a list of pairs: `[["-10C", "40 %"]]`',
            )
        )
        return None
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        match = TOML_POSITION.search(str(exc))
        line, column = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        diagnostics.append(
            message.at(
                Span.point(source.name, line, column),
                problem=f"not valid TOML: {TOML_POSITION.sub('', str(exc)).strip()}",
                hint=hint,
            )
        )
        return None
    except ValueError:  # an integer longer than Python reads (tomllib's only other error)
        line, column = _position_of(source.text, _LONG_DIGITS)
        diagnostics.append(
            message.at(
                Span.point(source.name, line, column),
                problem="a number of more than 4300 digits",
                hint='write the value with its unit and an exponent: `"2.5e3 kW"`',
            )
        )
        return None


def _position_of(text: str, pattern: re.Pattern[str]) -> tuple[int, int]:
    """Line and column (1-based) of the first match of `pattern`; the start of the file without one."""
    found = pattern.search(text)
    return (1, 1) if found is None else _line_and_column(text, found.start())


def _line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character of `text`."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _nesting_beyond(text: str, limit: int) -> tuple[int, int] | None:
    """Where brackets and braces outside strings and comments first nest deeper than `limit`."""
    depth = 0
    quote = ""  # the open string's delimiter: ", ', \"\"\" or \'\'\'
    k = 0
    while k < len(text):
        char = text[k]
        if quote:
            if char == "\\" and quote in ('"', '"""'):
                k += 1  # the escaped character
            elif text.startswith(quote, k):
                k += len(quote) - 1
                quote = ""
        elif char == "#":
            end = text.find("\n", k)
            k = len(text) if end < 0 else end - 1
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, k) else char
            k += len(quote) - 1
        elif char in "[{":
            depth += 1
            if depth > limit:
                return _line_and_column(text, k)
        elif char in "]}":
            depth = max(depth - 1, 0)
        k += 1
    return None


def _entries(source: SourceFile, diagnostics: list[Diagnostic]) -> list[_Entry]:
    hint = 'a value with a unit is a string: `start_above = "45C"`; one `[Program]` table per program'
    data = load_toml(source, messages.SITE_FILE, hint, diagnostics)
    if data is None:
        return []
    positions = toml_positions(source)
    entries: list[_Entry] = []
    for program, table in data.items():
        table_span = positions.get((program, None), Span.point(source.name, 1, 1))
        if not isinstance(table, dict):
            diagnostics.append(
                messages.SITE_FILE.at(
                    table_span,
                    problem=f"`{program}` is not a table of parameters",
                    hint=f'write it under a program\'s table: `[Program]` then `{program} = "..."`',
                )
            )
            continue
        for parameter, raw in table.items():
            key_span = positions.get((program, parameter), table_span)
            value_span = positions.get((program, f"={parameter}"), key_span)
            if isinstance(raw, dict | list):
                diagnostics.append(
                    messages.SITE_FILE.at(
                        key_span,
                        problem=f"`{program}.{parameter}` holds a {_toml_kind(raw)}",
                        hint='a parameter holds one value: `name = "22 C"`',
                    )
                )
                continue
            entries.append(_Entry(program, parameter, raw, table_span, key_span, value_span))
    return entries


def toml_positions(source: SourceFile) -> dict[tuple[str, str | None], Span]:
    """Where each table header, key and value stands, for diagnostics (tomllib gives no positions)."""
    found: dict[tuple[str, str | None], Span] = {}
    table = ""
    for number, text in enumerate(source.lines, start=1):
        header = _TABLE.match(text)
        if header:
            table = header.group(1)
            found[(table, None)] = Span(source.name, number, header.start(1) + 1, number, header.end(1) + 1)
            continue
        key = _KEY.match(text)
        if key and table:
            found[(table, key.group(1))] = Span(source.name, number, key.start(1) + 1, number, key.end(1) + 1)
            quoted = _QUOTED.match(text, key.end())
            value_end = quoted.end() if quoted else len(text.split("#", 1)[0].rstrip())
            found[(table, f"={key.group(1)}")] = Span(
                source.name, number, key.end() + 1, number, max(value_end + 1, key.end() + 2)
            )
    return found


_HEADER = re.compile(r"\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_BARE_KEY = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=\s*")


def toml_places(source: SourceFile) -> dict[tuple[str, ...], Span]:
    """Where each table, key and value of a TOML file stands, by path (tomllib gives no positions).

    A table's path is its dotted name with the quotes removed (`[points."A.b"]` is
    `("points", "A.b")`), its span the last name; each element of an array of tables adds its
    index (`[[site]]` is `("site", "0")`, then `("site", "1")`, ...). A key adds its name
    (`(*table, "unit")`, the key's span) and its value is at `(*table, "=unit")`.
    """
    found: dict[tuple[str, ...], Span] = {}
    table: tuple[str, ...] = ()
    elements: dict[tuple[str, ...], int] = {}
    for number, text in enumerate(source.lines, start=1):
        header = _HEADER.match(text)
        if header:
            table = _dotted(header.group(2))
            start = text.rfind(table[-1], header.start(2), header.end(2))
            start = header.start(2) if start < 0 else start
            span = Span(source.name, number, start + 1, number, start + len(table[-1]) + 1)
            if header.group(1) == "[[":
                index = elements.get(table, 0)
                elements[table] = index + 1
                table = (*table, str(index))
            found[table] = span
            continue
        key = _BARE_KEY.match(text)
        if key and table:
            quoted = _QUOTED.match(text, key.end())
            value_end = quoted.end() if quoted else len(text.split("#", 1)[0].rstrip())
            found[(*table, key.group(1))] = Span(
                source.name, number, key.start(1) + 1, number, key.end(1) + 1
            )
            found[(*table, "=" + key.group(1))] = Span(
                source.name, number, key.end() + 1, number, max(value_end + 1, key.end() + 2)
            )
    return found


def _dotted(text: str) -> tuple[str, ...]:
    """`points."A.b"` -> ("points", "A.b"): a TOML dotted key, quotes removed."""
    parts: list[str] = []
    current = ""
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return tuple(parts)


def toml_value(raw: object, span: Span) -> Value:
    """A TOML value as the engineer wrote it."""
    if isinstance(raw, bool):
        return Value("bool", "true" if raw else "false", 1.0 if raw else 0.0, span=span)
    if isinstance(raw, int | float):
        try:
            number = float(raw)
        except OverflowError:  # an integer beyond any float: out of every range
            number = math.inf if raw > 0 else -math.inf
        # A number of hundreds of digits is shown in scientific notation, as a person writes it.
        text = str(raw) if len(str(raw)) <= 40 else f"{decimal.Decimal(raw):.6e}"
        return Value("number", text, number, span=span)
    if isinstance(raw, str):
        return from_text(raw, span)
    return Value("member", str(raw), member=str(raw), span=span)


def _number(bound: ir.Expr | None) -> float | None:
    if (
        isinstance(bound, ir.Literal_)
        and isinstance(bound.value, int | float)
        and not isinstance(bound.value, bool)
    ):
        return float(bound.value)
    return None


def _toml_kind(raw: object) -> str:
    return "table" if isinstance(raw, dict) else "list"
