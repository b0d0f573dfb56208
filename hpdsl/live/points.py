"""The points file of `hpdsl run`: where each input, output and alarm of the rules lives in the field.

The format is TOML, one table per concern::

    [controller]
    cycle = "1 s"                 # the scan period
    stale_after = "3 s"           # a reading older than this is a sensor fault (default: 3 cycles)
    event_log = "events"          # folder of the event log, beside this file

    [devices.plant_io]            # a Modbus TCP device
    protocol = "modbus"
    address = "192.168.10.20:502"
    unit_id = 1
    timeout = "0.5 s"

    [devices.bms]                 # a BACnet/IP device
    protocol = "bacnet"
    address = "192.168.10.30"
    device_id = 1001

    [server]                      # the controller's own BACnet device (optional)
    address = "192.168.10.5"
    device_id = 599

    [points."PlantSignals.outdoor_temp_sensor"]
    device = "plant_io"
    register = "input 0"          # coil N, discrete N, input N, holding N
    type = "int16"                # int16, uint16, int32, uint32, float32 (registers); coils are bits
    scale = 0.1                   # the field value is raw * scale + offset ...
    unit = "F"                    # ... in this unit, converted to the rules' unit (C)

    [points."PlantSignals.space_temp_sensor"]
    device = "bms"
    object = "analog-value,3"     # a BACnet object; property = "present-value" by default
    unit = "C"

Every value is converted through the language's unit system, so a point of the wrong quantity is
a diagnostic at its `unit` line (`points-unit`), and every input of the rules that no point
feeds is an error before the controller starts (`points-unmapped`). `docs/runtime.md` describes
the format in full.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import read_checked
from hpdsl.base.source import SourceFile, Span
from hpdsl.compile.site import load_toml, toml_places
from hpdsl.language import units
from hpdsl.language.values import ValueProblem, from_text
from hpdsl.sim.loaded import LoadedPackage, PointSpec

Protocol = Literal["modbus", "bacnet"]
RegisterTable = Literal["coil", "discrete", "input", "holding"]
RegisterType = Literal["bool", "int16", "uint16", "int32", "uint32", "float32"]

REGISTER_TABLES: tuple[RegisterTable, ...] = ("coil", "discrete", "input", "holding")
REGISTER_WIDTH: dict[RegisterType, int] = {
    "bool": 1,
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
}
# BACnet object types a point may name, and whether the controller may write them.
BACNET_OBJECTS = {
    "analog-input": False,
    "analog-output": True,
    "analog-value": True,
    "binary-input": False,
    "binary-output": True,
    "binary-value": True,
    "multi-state-input": False,
    "multi-state-output": True,
    "multi-state-value": True,
}
DEFAULT_PORTS: dict[Protocol, int] = {"modbus": 502, "bacnet": 47808}
DEFAULT_TIMEOUT_S = 1.0
DEFAULT_CYCLE_S = 1.0
STALE_CYCLES = 3  # a reading older than this many cycles is a fault, unless `stale_after` says otherwise
LOG_ROTATE_BYTES = 10 * 1024 * 1024
LOG_KEEP = 10


@dataclass(frozen=True)
class Device:
    """A field device the controller reads and writes."""

    name: str
    protocol: Protocol
    host: str
    port: int
    unit_id: int  # Modbus: the unit (slave) id; BACnet: the device instance
    timeout_s: float
    span: Span


@dataclass(frozen=True)
class Register:
    """Where a value lives on a Modbus device: a table, an address (0-based) and an encoding."""

    table: RegisterTable
    address: int
    type: RegisterType
    word_order: Literal["big", "little"] = "big"

    @property
    def width(self) -> int:
        return REGISTER_WIDTH[self.type]


@dataclass(frozen=True)
class BacnetObject:
    """Where a value lives on a BACnet device: an object and a property."""

    object_type: str
    instance: int
    property: str = "present-value"


@dataclass(frozen=True)
class Mapping:
    """One point of the rules bound to one field point, with the conversion between them.

    A field value is `raw * scale + offset` in the field's unit, then converted to the rules'
    unit (`rules = field * factor + shift`); an output goes the opposite way.
    """

    point: PointSpec
    device: Device
    where: Register | BacnetObject
    scale: float = 1.0
    offset: float = 0.0
    factor: float = 1.0
    shift: float = 0.0
    safe: bool | int | float | str | None = None  # an output's value when the controller stops
    span: Span = field(default_factory=lambda: Span.point("<points>", 1, 1))

    @property
    def column(self) -> str:
        return self.point.column

    def to_rules(self, raw: float) -> float:
        """A raw field number in the rules' unit."""
        return (raw * self.scale + self.offset) * self.factor + self.shift

    def to_field(self, value: float) -> float:
        """A value in the rules' unit as the raw number the field point takes."""
        return ((value - self.shift) / self.factor - self.offset) / self.scale


@dataclass(frozen=True)
class Server:
    """The controller's own BACnet device, which publishes outputs, alarms, modes and parameters."""

    host: str
    port: int
    device_id: int
    name: str
    span: Span


@dataclass
class PointsFile:
    """What a points file says, and what was wrong with it."""

    name: str
    cycle_s: float = DEFAULT_CYCLE_S
    stale_after_s: float = DEFAULT_CYCLE_S * STALE_CYCLES
    event_log: Path | None = None
    log_rotate_bytes: int = LOG_ROTATE_BYTES
    log_keep: int = LOG_KEEP
    devices: dict[str, Device] = field(default_factory=dict)
    inputs: list[Mapping] = field(default_factory=list)  # read from the field, in the order of the file
    outputs: list[Mapping] = field(default_factory=list)  # written to the field: outputs, alarms, modes
    server: Server | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: SourceFile | None = None

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


_REGISTER = re.compile(r"\s*(coil|discrete|input|holding)\s+(\d+)\s*")
_OBJECT = re.compile(r"\s*([a-z-]+)\s*,\s*(\d+)\s*")
_ADDRESS = re.compile(r"\s*([A-Za-z0-9_.-]+)(?::(\d+))?\s*")
_SECTIONS = ("controller", "devices", "server", "points")
_CONTROLLER_KEYS = ("cycle", "stale_after", "event_log", "log_rotate_bytes", "log_keep")
_DEVICE_KEYS = ("protocol", "address", "unit_id", "device_id", "timeout")
_SERVER_KEYS = ("address", "device_id", "name")
_POINT_KEYS = (
    "device",
    "register",
    "type",
    "word_order",
    "object",
    "property",
    "scale",
    "offset",
    "unit",
    "safe",
)
_HINT = 'one `[points."Program.point"]` table per point, a unit in a string: `unit = "C"`'


def read(path: Path, loaded: LoadedPackage) -> PointsFile:
    """Read and check a points file against the package it drives."""
    return read_checked(path, PointsFile, lambda source: check(source, loaded, path.parent))


def check(source: SourceFile, loaded: LoadedPackage, folder: Path | None = None) -> PointsFile:
    """Check the text of a points file against the package it drives."""
    result = PointsFile(source.name, source=source)
    data = load_toml(source, messages.POINTS_FILE, _HINT, result.diagnostics)
    if data is None:
        return result
    reader = _Reader(source, loaded, result)
    reader.read(data, folder)
    return result


class _Base:
    """A points file being read: its positions, and the helpers that read values and report problems."""

    def __init__(self, source: SourceFile, loaded: LoadedPackage, result: PointsFile) -> None:
        self.source = source
        self.loaded = loaded
        self.result = result
        self.positions = toml_places(source)
        self.start = Span.point(source.name, 1, 1)
        self.named: set[str] = set()  # the points the file has a table for, right or wrong

    # ------------------------------------------------------------------ helpers
    def span(self, *path: str) -> Span:
        """The span of a key's value, else of the key, else of its table, else of the file's start."""
        value = (*path[:-1], "=" + path[-1])
        if value in self.positions:
            return self.positions[value]
        for k in range(len(path), 0, -1):
            if path[:k] in self.positions:
                return self.positions[path[:k]]
        return self.start

    def key_span(self, *path: str) -> Span:
        return self.positions.get(path) or self.span(*path)

    def error(self, span: Span, problem: str, hint: str | None = None) -> None:
        self.result.diagnostics.append(messages.POINTS_FILE.at(span, problem=problem, hint=hint))

    def table(self, data: dict[str, object], *path: str) -> dict[str, object] | None:
        value = data.get(path[-1])
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(
                self.key_span(*path),
                f"`{'.'.join(path)}` is not a table",
                f"write it as `[{'.'.join(path)}]`",
            )
            return None
        return value

    def unknown_keys(self, table: dict[str, object], allowed: tuple[str, ...], *path: str) -> None:
        for key in table:
            if key not in allowed:
                suggestion = messages.did_you_mean(key, allowed)
                self.error(
                    self.key_span(*path, key),
                    f"`{key}` is not a setting of `[{'.'.join(path)}]`",
                    suggestion or "it takes " + ", ".join(f"`{k}`" for k in allowed),
                )

    def duration(self, raw: object, *path: str) -> float | None:
        """A positive duration written with its unit ("1 s", "500 ms"), in seconds."""
        span = self.span(*path)
        if not isinstance(raw, str):
            self.error(span, f"`{path[-1]}` needs a duration with its unit", f'write `{path[-1]} = "1 s"`')
            return None
        value = from_text(raw, span)
        unit = units.lookup(value.unit) if value.kind == "quantity" else None
        second = units.lookup("s")
        assert second is not None
        try:
            scale, _ = (unit or units.NUMBER).factor_to(second)
        except units.UnitError:
            self.error(
                span, f"`{raw}` is not a duration", f'write it with a unit of time: `{path[-1]} = "1 s"`'
            )
            return None
        seconds = value.number * scale
        if not (math.isfinite(seconds) and seconds > 0):
            self.error(span, f"`{path[-1]}` must be longer than 0 s", f'write `{path[-1]} = "1 s"`')
            return None
        return seconds

    def integer(self, raw: object, low: int, high: int, *path: str) -> int | None:
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            self.error(self.span(*path), f"`{path[-1]}` must be a whole number from {low} to {high}")
            return None
        return raw

    def number(self, raw: object, *path: str) -> float | None:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(float(raw)):
            self.error(self.span(*path), f"`{path[-1]}` must be a finite number", f"write `{path[-1]} = 0.1`")
            return None
        return float(raw)

    def address(self, raw: object, protocol: Protocol, *path: str) -> tuple[str, int] | None:
        match = _ADDRESS.fullmatch(raw) if isinstance(raw, str) else None
        if match is None:
            self.error(
                self.span(*path),
                "`address` must be a host with an optional port",
                'write `address = "192.168.1.20:502"`',
            )
            return None
        port = int(match.group(2)) if match.group(2) else DEFAULT_PORTS[protocol]
        if not 0 < port < 65536:
            self.error(self.span(*path), f"port {port} is not a TCP/UDP port (1 to 65535)")
            return None
        return match.group(1), port


class _Points(_Base):
    """The `[points]` tables: each point checked against the package it drives."""

    # ------------------------------------------------------------------ points
    def point(self, column: str, table: dict[str, object]) -> None:
        path = ("points", column)
        self.named.add(column)
        self.unknown_keys(table, _POINT_KEYS, *path)
        point = self.loaded.point(column)
        if point is None:
            suggestion = messages.did_you_mean(column, [p.column for p in self.loaded.points])
            self.error(
                self.key_span(*path),
                f"the rules have no point `{column}`",
                suggestion or "name it `Program.point`, as the points list of `hpdsl doc` shows",
            )
            return
        if point.role not in ("input", "output", "alarm", "machine"):
            self.error(
                self.key_span(*path),
                f"`{column}` is a {point.role}: only inputs, outputs, alarms and state machines go to"
                " the field",
                "the controller's own BACnet device publishes totals and counters",
            )
            return
        device_name = table.get("device")
        device = self.result.devices.get(device_name) if isinstance(device_name, str) else None
        if device is None:
            names = sorted(self.result.devices)
            suggestion = (
                messages.did_you_mean(str(device_name), names) if isinstance(device_name, str) else None
            )
            self.error(
                self.span(*path, "device"),
                f"point `{column}` names no device of `[devices]`"
                if device_name is not None
                else f"point `{column}` has no `device`",
                suggestion
                or ("devices: " + ", ".join(names) if names else "declare one: `[devices.plant_io]`"),
            )
            return
        writes = point.role != "input"
        where = (
            self.register(table, point, writes, *path)
            if device.protocol == "modbus"
            else self.bacnet_object(table, point, writes, *path)
        )
        if where is None:
            return
        conversion = self.conversion(table, point, *path)
        if conversion is None:
            return
        scale, offset, factor, shift = conversion
        safe = self.safe(table, point, *path) if writes else None
        if not writes and "safe" in table:
            self.error(
                self.key_span(*path, "safe"),
                "an input has no safe state: its fallback is declared in the rules",
            )
        mapping = Mapping(point, device, where, scale, offset, factor, shift, safe, self.key_span(*path))
        (self.result.outputs if writes else self.result.inputs).append(mapping)

    def register(
        self, table: dict[str, object], point: PointSpec, writes: bool, *path: str
    ) -> Register | None:
        if "object" in table:
            self.error(
                self.key_span(*path, "object"),
                "a Modbus device has registers, not BACnet objects",
                'write `register = "holding 10"`',
            )
            return None
        raw = table.get("register")
        match = _REGISTER.fullmatch(raw) if isinstance(raw, str) else None
        if match is None:
            self.error(
                self.span(*path, "register"),
                f'point `{point.column}` needs `register = "<table> <address>"`',
                "tables: coil, discrete (inputs), input (registers), holding (registers); addresses from 0",
            )
            return None
        kind: RegisterTable = match.group(1)  # type: ignore[assignment]
        address = int(match.group(2))
        bits = kind in ("coil", "discrete")
        default: RegisterType = "bool" if bits else ("float32" if point.kind == "real" else "int16")
        type_ = table.get("type", default)
        if type_ not in REGISTER_WIDTH:
            self.error(
                self.span(*path, "type"),
                f"`{type_}` is not a register type",
                "types: " + ", ".join(REGISTER_WIDTH),
            )
            return None
        if bits and point.kind != "bool":
            self.error(
                self.span(*path, "register"),
                f"a {kind} holds bits, and `{point.column}` is {_kind_words(point)}",
                'read a number from an input or holding register: `register = "input 0"`',
            )
            return None
        if bits != (type_ == "bool"):
            self.error(
                self.span(*path, "type"),
                f"a {kind} holds {'bits' if bits else '16-bit words'}, not `{type_}`",
                "a coil or discrete input is `bool`; a register is int16, uint16, int32, uint32 or float32",
            )
            return None
        if writes and kind in ("discrete", "input"):
            self.error(
                self.span(*path, "register"),
                f"`{point.column}` is written, and a Modbus {kind} "
                f"{'input' if kind == 'discrete' else 'register'} is read-only",
                f"write it to a {'coil' if bits else 'holding register'}: "
                f'`register = "{"coil" if bits else "holding"} {address}"`',
            )
            return None
        if point.kind == "bool" and not bits and type_ == "float32":
            self.error(
                self.span(*path, "type"),
                f"`{point.column}` is true or false; a float register cannot hold it",
                'use `type = "uint16"` or a coil',
            )
            return None
        width = REGISTER_WIDTH[type_]
        if address + width > 65536:
            self.error(
                self.span(*path, "register"),
                f"register {address} and the {width - 1} after it run past 65535",
            )
            return None
        order = table.get("word_order", "big")
        if order not in ("big", "little"):
            self.error(self.span(*path, "word_order"), "`word_order` is `big` (high word first) or `little`")
            return None
        return Register(kind, address, type_, order)

    def bacnet_object(
        self, table: dict[str, object], point: PointSpec, writes: bool, *path: str
    ) -> BacnetObject | None:
        if "register" in table:
            self.error(
                self.key_span(*path, "register"),
                "a BACnet device has objects, not registers",
                'write `object = "analog-value,3"`',
            )
            return None
        raw = table.get("object")
        match = _OBJECT.fullmatch(raw) if isinstance(raw, str) else None
        if match is None or match.group(1) not in BACNET_OBJECTS:
            self.error(
                self.span(*path, "object"),
                f'point `{point.column}` needs `object = "<type>,<instance>"`',
                "types: " + ", ".join(BACNET_OBJECTS),
            )
            return None
        object_type, instance = match.group(1), int(match.group(2))
        if writes and not BACNET_OBJECTS[object_type]:
            self.error(
                self.span(*path, "object"),
                f"`{point.column}` is written, and a BACnet {object_type} is read-only",
                f"write it to a {object_type.replace('-input', '-output')} or "
                f"{object_type.replace('-input', '-value')}",
            )
            return None
        family = object_type.split("-")[0]
        wanted = {"real": "analog", "int": "analog", "bool": "binary", "enum": "multi"}[point.kind]
        if family != wanted:
            self.error(
                self.span(*path, "object"),
                f"`{point.column}` holds {_kind_words(point)}; "
                f"a BACnet {object_type} holds {_family_words(family)}",
                f"use an {wanted}-input, -output or -value object"
                if wanted != "multi"
                else "use a multi-state-input, -output or -value object",
            )
            return None
        prop = table.get("property", "present-value")
        if not isinstance(prop, str) or not re.fullmatch(r"[a-z][a-z-]*", prop):
            self.error(
                self.span(*path, "property"),
                "`property` names a BACnet property",
                'write `property = "present-value"`',
            )
            return None
        return BacnetObject(object_type, instance, prop)

    def conversion(
        self, table: dict[str, object], point: PointSpec, *path: str
    ) -> tuple[float, float, float, float] | None:
        scale, offset = 1.0, 0.0
        numeric = point.kind in ("real", "int")
        for key in ("scale", "offset"):
            if key in table:
                if not numeric:
                    self.error(
                        self.key_span(*path, key),
                        f"`{point.column}` is {_kind_words(point)}: it takes no `{key}`",
                    )
                    return None
                value = self.number(table[key], *path, key)
                if value is None:
                    return None
                if key == "scale" and value == 0.0:
                    self.error(
                        self.span(*path, key),
                        "`scale` must not be 0",
                        "the field value is raw * scale + offset",
                    )
                    return None
                scale, offset = (value, offset) if key == "scale" else (scale, value)
        given = table.get("unit")
        if not numeric:
            if given is not None:
                self.error(
                    self.key_span(*path, "unit"), f"`{point.column}` is {_kind_words(point)}: it has no unit"
                )
                return None
            return scale, offset, 1.0, 0.0
        if given is None:
            if point.unit:
                self.result.diagnostics.append(
                    messages.POINTS_UNIT.at(
                        self.key_span(*path),
                        problem=f"point `{point.column}` gives no unit; the rules read it in {point.unit}",
                        hint=f'write the unit the field point reports: `unit = "{point.unit}"`',
                    )
                )
                return None
            return scale, offset, 1.0, 0.0
        span = self.span(*path, "unit")
        field_unit = units.lookup(given) if isinstance(given, str) else None
        if field_unit is None:
            suggestions = units.suggest(given) if isinstance(given, str) else []
            self.result.diagnostics.append(
                messages.POINTS_UNIT.at(
                    span,
                    problem=f"`{given}` is not a unit",
                    hint=f"did you mean `{suggestions[0]}`?"
                    if suggestions
                    else 'write a unit in a string: `unit = "C"`',
                )
            )
            return None
        rules_unit = units.lookup(point.unit) if point.unit else units.NUMBER
        assert rules_unit is not None
        try:
            factor, shift = field_unit.factor_to(rules_unit)
        except units.UnitError:
            self.result.diagnostics.append(
                messages.POINTS_UNIT.at(
                    span,
                    problem=(
                        f"point `{point.column}` is read in {point.unit or 'plain numbers'} by the rules; "
                        f"`{given}` is a {field_unit.describe()}, not a {rules_unit.describe()}"
                    ),
                    hint="give the unit the field point reports, of the same quantity: "
                    f'`unit = "{point.unit}"`'
                    if point.unit
                    else "a plain number takes no unit",
                )
            )
            return None
        return scale, offset, factor, shift

    def safe(self, table: dict[str, object], point: PointSpec, *path: str) -> bool | int | float | str | None:
        """An output's safe state: the `safe` the file gives, else the output's declared initial value."""
        if "safe" not in table:
            return point.default if isinstance(point.default, bool | int | float | str) else None
        raw = table["safe"]
        span = self.span(*path, "safe")
        if point.kind == "bool":
            if isinstance(raw, bool):
                return raw
            self.error(span, "the safe state of an on/off point is `true` or `false`")
            return None
        if point.kind == "enum":
            if isinstance(raw, str) and raw in point.members:
                return raw
            self.error(
                span, f"`{raw}` is not a member of `{point.column}`", "members: " + ", ".join(point.members)
            )
            return None
        value = from_text(raw, span) if isinstance(raw, str) else None
        number = self.number(raw, *path, "safe") if value is None else None
        if value is not None:
            try:
                unit = units.lookup(value.unit) if value.kind == "quantity" else None
                target = units.lookup(point.unit) if point.unit else None
                if value.kind == "number" and target is None:
                    return value.number
                if unit is None or target is None:
                    raise ValueProblem(f"`{raw}` is not a quantity in {point.unit}")
                factor, shift = unit.factor_to(target)
                return value.number * factor + shift
            except (ValueProblem, units.UnitError):
                self.error(
                    span,
                    f"`{raw}` is not a value of `{point.column}` ({point.unit})",
                    f'write it with its unit: `safe = "0 {point.unit}"`',
                )
                return None
        return number


class _Reader(_Points):
    """Reads the tables of a points file into a PointsFile, with a diagnostic for each problem."""

    # ------------------------------------------------------------------ sections
    def read(self, data: dict[str, object], folder: Path | None) -> None:
        for key in data:
            if key not in _SECTIONS:
                self.unknown_keys({key: None}, _SECTIONS)
        controller = self.table(data, "controller")
        if controller is not None:
            self.controller(controller, folder)
        elif folder is not None:
            self.result.event_log = folder / "events"
        devices = self.table(data, "devices")
        for name, table in (devices or {}).items():
            if not isinstance(table, dict):
                self.error(
                    self.key_span("devices", name),
                    f"device `{name}` is not a table",
                    f"write `[devices.{name}]`",
                )
                continue
            device = self.device(name, table)
            if device is not None:
                self.result.devices[name] = device
        server = self.table(data, "server")
        if server is not None:
            self.server(server)
        points = self.table(data, "points")
        for column, table in (points or {}).items():
            if not isinstance(table, dict):
                self.error(
                    self.key_span("points", column),
                    f"point `{column}` is not a table",
                    f'write `[points."{column}"]`',
                )
                continue
            self.point(column, table)
        self.unmapped()
        bacnet = [d for d in self.result.devices.values() if d.protocol == "bacnet"]
        if bacnet and self.result.server is None:
            self.error(
                bacnet[0].span,
                f"device `{bacnet[0].name}` is on BACnet, and the controller has no BACnet identity"
                " to reach it",
                "a BACnet client is a device itself: declare `[server]` with its `address` and `device_id`",
            )

    def controller(self, table: dict[str, object], folder: Path | None) -> None:
        self.unknown_keys(table, _CONTROLLER_KEYS, "controller")
        result = self.result
        if "cycle" in table:
            cycle = self.duration(table["cycle"], "controller", "cycle")
            if cycle is not None:
                result.cycle_s = cycle
        result.stale_after_s = result.cycle_s * STALE_CYCLES
        if "stale_after" in table:
            stale = self.duration(table["stale_after"], "controller", "stale_after")
            if stale is not None:
                if stale < result.cycle_s:
                    self.error(
                        self.span("controller", "stale_after"),
                        "`stale_after` is shorter than a cycle: every reading would be stale",
                        "make it at least the cycle time, e.g. "
                        f'`stale_after = "{result.cycle_s * STALE_CYCLES:g} s"`',
                    )
                else:
                    result.stale_after_s = stale
        log = table.get("event_log", "events")
        if not isinstance(log, str) or not log.strip():
            self.error(
                self.span("controller", "event_log"),
                "`event_log` must name a folder",
                'write `event_log = "events"`',
            )
        elif folder is not None:
            result.event_log = folder / log
        if "log_rotate_bytes" in table:
            size = self.integer(table["log_rotate_bytes"], 4096, 2**40, "controller", "log_rotate_bytes")
            if size is not None:
                result.log_rotate_bytes = size
        if "log_keep" in table:
            keep = self.integer(table["log_keep"], 1, 10_000, "controller", "log_keep")
            if keep is not None:
                result.log_keep = keep

    def device(self, name: str, table: dict[str, object]) -> Device | None:
        self.unknown_keys(table, _DEVICE_KEYS, "devices", name)
        protocol = table.get("protocol")
        if protocol not in ("modbus", "bacnet"):
            self.error(
                self.span("devices", name, "protocol"),
                f"device `{name}` has no protocol `modbus` or `bacnet`",
                'write `protocol = "modbus"` (Modbus TCP) or `protocol = "bacnet"` (BACnet/IP)',
            )
            return None
        address = self.address(table.get("address"), protocol, "devices", name, "address")
        identifier_key = "unit_id" if protocol == "modbus" else "device_id"
        wrong = "device_id" if protocol == "modbus" else "unit_id"
        if wrong in table:
            self.error(
                self.key_span("devices", name, wrong),
                f"a {protocol} device has no `{wrong}`",
                f"write `{identifier_key}`",
            )
        limit = 247 if protocol == "modbus" else 4_194_302
        identifier = self.integer(
            table.get(identifier_key, 1 if protocol == "modbus" else None),
            0,
            limit,
            "devices",
            name,
            identifier_key,
        )
        timeout = DEFAULT_TIMEOUT_S
        if "timeout" in table:
            given = self.duration(table["timeout"], "devices", name, "timeout")
            timeout = given if given is not None else timeout
        if address is None or identifier is None:
            return None
        return Device(
            name, protocol, address[0], address[1], identifier, timeout, self.key_span("devices", name)
        )

    def server(self, table: dict[str, object]) -> None:
        self.unknown_keys(table, _SERVER_KEYS, "server")
        address = self.address(table.get("address"), "bacnet", "server", "address")
        identifier = self.integer(table.get("device_id"), 0, 4_194_302, "server", "device_id")
        name = table.get("name", "hpdsl controller")
        if not isinstance(name, str) or not name.strip():
            self.error(
                self.span("server", "name"), "`name` must be text", 'write `name = "Plant room controller"`'
            )
            return
        if address is not None and identifier is not None:
            self.result.server = Server(address[0], address[1], identifier, name, self.key_span("server"))

    def unmapped(self) -> None:
        """Every input of the rules fed by no field point, as an error before the controller starts."""
        # A point the file names but gets wrong has its own diagnostic already.
        mapped = {mapping.column for mapping in self.result.inputs} | self.named
        for point in self.loaded.field_inputs:
            if point.column in mapped:
                continue
            self.result.diagnostics.append(
                messages.POINTS_UNMAPPED.at(
                    self.start,
                    column=point.column,
                    hint=f'map it: `[points."{point.column}"]` with its `device` and `register` or `object`',
                )
            )


def _kind_words(point: PointSpec) -> str:
    return {
        "bool": "true or false",
        "enum": f"a member of ({', '.join(point.members)})",
        "int": "a whole number",
    }.get(point.kind, "a number")


def _family_words(family: str) -> str:
    return {"analog": "a number", "binary": "active or inactive", "multi": "a state number"}[family]
