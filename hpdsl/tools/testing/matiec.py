"""The `iec` Structured Text compiled by MATIEC and run in this process: the PLC test bench.

MATIEC (``iec2c``, the IEC 61131-3 compiler behind Beremiz and OpenPLC) translates the `iec`
output to C; a C compiler builds that, with a scan driver this module writes, into a shared
library; ``ctypes`` loads it. What runs is therefore the PLC code itself, compiled by a real IEC
compiler, not a model of it. Programs of the library look like the classes of the Python target
(set inputs, ``scan(dt_s)``, read outputs, ``alarm_changes`` and ``log_entries`` after each scan),
so the scenario runner and the equivalence tests drive both the same way.

The scan driver is generated from the same IR and the same Structured Text names as the ST
text: for every program a table of its variables (the C field MATIEC gives each, and its type),
and functions that set one variable, read them all, run one call of the block, read the records
of that call, and emulate a power cycle (every variable MATIEC marked RETAIN keeps its value,
the rest start again from their initial values).

Finding the compiler: ``HPDSL_IEC2C``, else ``IEC2C``, else ``iec2c`` on PATH; its library
(``ieclib.txt`` and ``C/``) from ``MATIEC_LIB``, else ``lib/`` beside iec2c. The C compiler is
``CC``, else ``cc``.
"""

from __future__ import annotations

import ctypes
import datetime
import enum
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from hpdsl.codegen.st import ALARM_CLEARED, ALARM_RAISED, LOG_SIZE, StGenerator, event_key
from hpdsl.compile import ir

HOW_TO_GET = (
    "MATIEC's iec2c was not found: set HPDSL_IEC2C (or IEC2C) to its path and MATIEC_LIB to its"
    " lib/ folder, or put iec2c on PATH (build it from https://github.com/beremiz/matiec)"
)


class ToolchainError(Exception):
    """iec2c, its library or the C compiler is missing, or rejected the code (the message says which)."""


@dataclass(frozen=True)
class Toolchain:
    iec2c: Path
    lib: Path  # holds ieclib.txt (for iec2c) and C/ (headers for the C compiler)
    cc: str


def find_toolchain() -> Toolchain:
    """The compilers to use, from the environment; ToolchainError says how to get what is missing."""
    named = os.environ.get("HPDSL_IEC2C") or os.environ.get("IEC2C")
    found = named or shutil.which("iec2c")
    if not found or not Path(found).is_file():
        raise ToolchainError(HOW_TO_GET)
    iec2c = Path(found).resolve()
    lib = Path(os.environ.get("MATIEC_LIB") or iec2c.parent / "lib")
    if not (lib / "ieclib.txt").is_file() or not (lib / "C" / "iec_std_lib.h").is_file():
        raise ToolchainError(
            f"MATIEC's library was not found at {lib}: set MATIEC_LIB to MATIEC's lib/ folder"
        )
    cc = os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        raise ToolchainError(f"no C compiler: `{cc}` is not on PATH (set CC)")
    return Toolchain(iec2c, lib, cc)


def translate(toolchain: Toolchain, st_text: str, folder: Path) -> Path:
    """Run iec2c on the text; the folder of its C output. ToolchainError with its messages on failure."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "program.st"
    source.write_text(st_text, encoding="utf-8")
    out = folder / "c"
    out.mkdir(exist_ok=True)
    done = subprocess.run(
        [str(toolchain.iec2c), "-I", str(toolchain.lib), "-T", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or done.stderr.strip():
        raise ToolchainError(f"iec2c rejected the Structured Text:\n{done.stdout}{done.stderr}".rstrip())
    return out


def accept(toolchain: Toolchain, st_text: str, folder: Path) -> None:
    """iec2c translates the text and the C compiler compiles the result, both without a message.

    ToolchainError with what either printed otherwise: a warning counts as a rejection.
    """
    c_folder = translate(toolchain, st_text, folder)
    unit = c_folder / "unit.c"
    unit.write_text('#include "POUS.h"\n#include "POUS.c"\nTIME __CURRENT_TIME;\nBOOL __DEBUG;\n', "utf-8")
    done = subprocess.run(
        [
            toolchain.cc,
            "-c",
            "-I",
            str(c_folder),
            "-I",
            str(toolchain.lib / "C"),
            str(unit),
            "-o",
            os.devnull,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or done.stderr.strip():
        raise ToolchainError(f"the C compiler did not accept MATIEC's output:\n{done.stderr}".rstrip())


# ---------------------------------------------------------------------------------- the driver


@dataclass(frozen=True)
class Slot:
    """One variable of a block as the driver reaches it: its index, C field and kind."""

    index: int
    name: str  # the IR name (the Python target's name for it)
    field: str  # the C field MATIEC declares (the ST name in capitals)
    kind: str  # bool, int, real, enum
    enum: str | None = None
    fault: str | None = None  # the C field of the input's io_fault flag


@dataclass
class Layout:
    """The C side of one block type: its struct, and its variables in driver order."""

    number: int
    program: str  # the rules name; "" for the package program
    ctype: str
    slots: list[Slot] = field(default_factory=list)
    retained: list[str] = field(default_factory=list)  # C fields of retained nested blocks

    def slot(self, name: str) -> Slot:
        for slot in self.slots:
            if slot.name == name:
                return slot
        raise KeyError(name)


def layouts(generator: StGenerator) -> list[Layout]:
    """The driver's view of every program block and of the package program (last)."""
    found = []
    for number, program in enumerate(generator.package.programs):
        printer = generator.printers[program.name]
        layout = Layout(number, program.name, generator.global_name("type", program.name).upper())
        names = printer.names
        special = [("cycle_time_s", "real"), ("time_s", "real"), ("record_count", "int")]
        if program.uses_calendar:
            special += [("start_second_of_day", "real"), ("start_weekday", "int")]
        for name, kind in special:
            layout.slots.append(Slot(len(layout.slots), f"@{name}", names[name].upper(), kind))
        for var in program.variables:
            if var.role == "constant" and var not in printer.deferred:
                continue
            fault = names.get(f"io_fault:{var.name}") if var.role == "input" else None
            layout.slots.append(
                Slot(
                    len(layout.slots),
                    var.name,
                    names[var.name].upper(),
                    var.type.kind,
                    var.type.enum,
                    fault.upper() if fault else None,
                )
            )
        found.append(layout)
    main = Layout(len(found), "", generator.global_name("main").upper())
    for key in ("cycle_time_s", "clock_s", "clock_second_of_day"):
        main.slots.append(Slot(len(main.slots), f"@{key}", generator.main_names[key].upper(), "real"))
    main.slots.append(
        Slot(len(main.slots), "@clock_weekday", generator.main_names["clock_weekday"].upper(), "int")
    )
    main.retained.append(generator.main_names["event_log"].upper())
    found.append(main)
    return found


def _c_value(slot: Slot, generator: StGenerator, value: str) -> str:
    if slot.kind == "bool":
        return f"({value} != 0.0)"
    if slot.kind == "int":
        return f"hp_dint({value})"
    if slot.kind == "enum":
        assert slot.enum is not None
        return f"({generator.global_name('type', slot.enum).upper()})(int)({value})"
    return f"({value})"


def driver_source(generator: StGenerator, blocks: list[Layout]) -> str:
    """The C scan driver: functions over block numbers and variable indices, for ctypes."""
    main = blocks[-1]
    lines = [
        "/* Scan driver of the hpdsl PLC test bench: generated, do not edit. */",
        '#include "POUS.h"',
        '#include "POUS.c"',
        "#include <string.h>",
        "#include <stdlib.h>",
        "#include <time.h>",
        "TIME __CURRENT_TIME;",
        "BOOL __DEBUG;",
        "",
        "/* A whole number from a double; not a number or out of range gives the lowest DINT. */",
        "static DINT hp_dint(double x) {",
        "    return (x >= -2147483648.0 && x <= 2147483647.0) ? (DINT)x : (DINT)(-2147483647 - 1);",
        "}",
        "",
        "long hp_size(int block) {",
        "    switch (block) {",
    ]
    lines += [f"    case {b.number}: return (long)sizeof({b.ctype});" for b in blocks]
    lines += [
        "    }",
        "    return 0;",
        "}",
        "",
        "void hp_init(int block, void *p, int retain) {",
        "    switch (block) {",
    ]
    lines += [f"    case {b.number}: {b.ctype}_init__(({b.ctype} *)p, (BOOL)retain); break;" for b in blocks]
    lines += ["    }", "}", "", "void hp_body(int block, void *p) {", "    switch (block) {"]
    lines += [f"    case {b.number}: {b.ctype}_body__(({b.ctype} *)p); break;" for b in blocks]
    lines += ["    }", "}", "", "void *hp_instance(void *m, int block) {", "    switch (block) {"]
    for b in blocks[:-1]:
        instance = generator.main_names[f"instance:{b.program}"].upper()
        lines.append(f"    case {b.number}: return &(({main.ctype} *)m)->{instance};")
    lines += ["    }", "    return NULL;", "}", ""]
    # set one variable (and an input's fault flag)
    lines += ["void hp_set(int block, void *p, int slot, double value, int fault) {", "    switch (block) {"]
    for b in blocks:
        lines.append(f"    case {b.number}: {{")
        lines.append(f"        {b.ctype} *d = ({b.ctype} *)p;")
        lines.append("        switch (slot) {")
        for s in b.slots:
            body = f"d->{s.field}.value = {_c_value(s, generator, 'value')};"
            if s.fault:
                body += f" d->{s.fault}.value = (fault != 0);"
            lines.append(f"        case {s.index}: {body} break;")
        lines += ["        }", "        break;", "    }"]
    lines += ["    }", "}", ""]
    # read every variable
    lines += ["void hp_get_all(int block, void *p, double *out) {", "    switch (block) {"]
    for b in blocks:
        lines.append(f"    case {b.number}: {{")
        lines.append(f"        {b.ctype} *d = ({b.ctype} *)p;")
        lines += [f"        out[{s.index}] = (double)d->{s.field}.value;" for s in b.slots]
        lines += ["        break;", "    }"]
    lines += ["    }", "}", ""]
    # the records of the last call, and the retain flags
    width = 4 + generator.log_fields
    lines += [
        "static void hp_entry(const HPLOGENTRY *e, double *out) {",
        "    out[0] = e->KIND; out[1] = e->EVENT; out[2] = e->TIME_S; out[3] = e->FIELD_COUNT;",
        f"    for (int k = 0; k < {generator.log_fields}; k++) out[4 + k] = e->FIELD_VALUE.table[k];",
        "}",
        "",
        "int hp_records(int block, void *p, double *out) {",
        "    switch (block) {",
    ]
    for b in blocks[:-1]:
        records = generator.printers[b.program].names["records"].upper()
        count = generator.printers[b.program].names["record_count"].upper()
        lines.append(f"    case {b.number}: {{")
        lines.append(f"        {b.ctype} *d = ({b.ctype} *)p;")
        lines.append(f"        int n = d->{count}.value;")
        lines.append(
            f"        for (int k = 0; k < n; k++) hp_entry(&d->{records}.value.table[k], out + {width} * k);"
        )
        lines += ["        return n;", "    }"]
    lines += ["    }", "    return 0;", "}", ""]
    log = generator.main_names["event_log"].upper()
    lines += [
        "/* The package program's event log: the sequence number, then the ring in slot order. */",
        "long hp_log(void *m, double *out) {",
        f"    {main.ctype} *d = ({main.ctype} *)m;",
        f"    for (int k = 0; k < {LOG_SIZE}; k++)",
        f"        hp_entry(&d->{log}.ENTRIES.value.table[k], out + {width} * k);",
        f"    out[{width} * {LOG_SIZE}] = d->{log}.NEXT.value;",
        f"    return (long)d->{log}.SEQUENCE.value;",
        "}",
        "",
        "int hp_retained(int block, void *p, int slot) {",
        "    switch (block) {",
    ]
    for b in blocks:
        lines.append(f"    case {b.number}: {{")
        lines.append(f"        {b.ctype} *d = ({b.ctype} *)p;")
        lines.append("        switch (slot) {")
        lines += [
            f"        case {s.index}: return (d->{s.field}.flags & __IEC_RETAIN_FLAG) != 0;" for s in b.slots
        ]
        lines += ["        }", "        return 0;", "    }"]
    lines += ["    }", "    return 0;", "}", ""]
    # a power cycle: what MATIEC marked RETAIN keeps its value, the rest starts again
    lines += [
        "static void hp_restore(int block, void *p, const void *q) {",
        "    switch (block) {",
    ]
    for b in blocks:
        lines.append(f"    case {b.number}: {{")
        lines.append(f"        {b.ctype} *d = ({b.ctype} *)p; const {b.ctype} *s = (const {b.ctype} *)q;")
        for slot in b.slots:
            f = slot.field
            lines.append(f"        if (s->{f}.flags & __IEC_RETAIN_FLAG) d->{f}.value = s->{f}.value;")
        for nested in b.retained:
            lines.append(
                f"        if (s->{nested}.SEQUENCE.flags & __IEC_RETAIN_FLAG) d->{nested} = s->{nested};"
            )
        if b is main:
            for inner in blocks[:-1]:
                instance = generator.main_names[f"instance:{inner.program}"].upper()
                lines.append(f"        hp_restore({inner.number}, &d->{instance}, &s->{instance});")
        lines += ["        break;", "    }"]
    lines += [
        "    }",
        "}",
        "",
        "/* Seconds taken by n calls of a block, timed here so that no foreign call is counted. */",
        "double hp_time_calls(int block, void *p, long n) {",
        "    struct timespec a, b;",
        "    clock_gettime(CLOCK_MONOTONIC, &a);",
        "    for (long k = 0; k < n; k++) hp_body(block, p);",
        "    clock_gettime(CLOCK_MONOTONIC, &b);",
        "    return (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);",
        "}",
        "",
        "void hp_power_cycle(int block, void *p) {",
        "    long size = hp_size(block);",
        "    void *saved = malloc((size_t)size);",
        "    memcpy(saved, p, (size_t)size);",
        "    memset(p, 0, (size_t)size);",
        "    hp_init(block, p, 0);",
        "    hp_restore(block, p, saved);",
        "    free(saved);",
        "}",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- building


@dataclass
class Bench:
    """A package compiled by MATIEC and loaded: the library, the block layouts, the record meanings."""

    library: ctypes.CDLL
    blocks: list[Layout]
    events: dict[int, tuple[str, str, tuple[tuple[str, str, str | None], ...]]]  # number -> meaning
    log_fields: int
    folder: Path

    @property
    def width(self) -> int:
        return 4 + self.log_fields

    def block(self, program: str) -> Layout:
        for layout in self.blocks:
            if layout.program == program:
                return layout
        raise KeyError(program)


def build(package: ir.Package, folder: Path | None = None, toolchain: Toolchain | None = None) -> Bench:
    """Compile the package's `iec` text with MATIEC and a C compiler; load the result.

    Built once per package text: the shared library is cached in `folder` (default: a folder
    under the system's temporary folder named by the text's hash).
    """
    toolchain = toolchain or find_toolchain()
    generator = StGenerator(package, source_comments=False)
    text = generator.generate("bench").files[f"{package.name}{generator.extension}"]
    blocks = layouts(generator)
    driver = driver_source(generator, blocks)
    digest = hashlib.sha256((text + driver + str(toolchain)).encode()).hexdigest()[:16]
    if folder is None:
        folder = Path(tempfile.gettempdir()) / f"hpdsl-matiec-{digest}"
    library_path = folder / "bench.so"
    if not library_path.is_file():
        work = Path(tempfile.mkdtemp(prefix="hpdsl-matiec-"))
        c_folder = translate(toolchain, text, work)
        (c_folder / "driver.c").write_text(driver, encoding="utf-8")
        built = work / "bench.so"
        done = subprocess.run(
            [
                toolchain.cc,
                "-O2",
                "-shared",
                "-fPIC",
                "-I",
                str(c_folder),
                "-I",
                str(toolchain.lib / "C"),
                str(c_folder / "driver.c"),
                "-o",
                str(built),
                "-lm",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or done.stderr.strip():
            raise ToolchainError(f"the C compiler did not accept MATIEC's output:\n{done.stderr}".rstrip())
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(built, library_path)
        shutil.rmtree(work, ignore_errors=True)
    library = ctypes.CDLL(str(library_path))
    _declare(library)
    events = {}
    for program in package.programs:
        for stmt in ir.walk_stmts(program.scan):
            key = event_key(program.name, stmt)
            if key is None:
                continue
            number = generator.events[key]
            events[number] = (program.name, key[1], _field_types(program, stmt))
    return Bench(library, blocks, events, generator.log_fields, folder)


def _field_types(program: ir.Program, stmt: ir.Stmt) -> tuple[tuple[str, str, str | None], ...]:
    """(name, kind, enumeration) of each value a record holds.

    A sensor-fault record holds the reading: its kind is `reading:` and the input's kind, since
    a faulted reading is shown as the register holds it (not a number, or 0 for a missing one).
    """
    if isinstance(stmt, ir.ReadInput):
        vt = program.variable(stmt.input).type
        return ((stmt.input, f"reading:{vt.kind}", vt.enum),)
    assert isinstance(stmt, ir.Log | ir.AlarmChange)
    values = stmt.fields if isinstance(stmt, ir.Log) else stmt.values
    return tuple((name, expr.type.kind, expr.type.enum) for name, expr in values)


def _declare(library: ctypes.CDLL) -> None:
    c_int, c_double, c_void_p, c_long = ctypes.c_int, ctypes.c_double, ctypes.c_void_p, ctypes.c_long
    doubles = ctypes.POINTER(ctypes.c_double)
    signatures: dict[str, tuple[list[Any], Any]] = {
        "hp_size": ([c_int], c_long),
        "hp_init": ([c_int, c_void_p, c_int], None),
        "hp_body": ([c_int, c_void_p], None),
        "hp_instance": ([c_void_p, c_int], c_void_p),
        "hp_set": ([c_int, c_void_p, c_int, c_double, c_int], None),
        "hp_get_all": ([c_int, c_void_p, doubles], None),
        "hp_records": ([c_int, c_void_p, doubles], c_int),
        "hp_log": ([c_void_p, doubles], c_long),
        "hp_retained": ([c_int, c_void_p, c_int], c_int),
        "hp_power_cycle": ([c_int, c_void_p], None),
        "hp_time_calls": ([c_int, c_void_p, c_long], ctypes.c_double),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(library, name)
        function.argtypes = arguments
        function.restype = result


# ---------------------------------------------------------------------------------- programs


class PlcBlock:
    """One block instance in the library's memory: set, call, read, and the records of the last call."""

    def __init__(self, bench: Bench, layout: Layout, address: int, keep: object = None) -> None:
        self.bench = bench
        self.layout = layout
        self.address = address
        self._keep = keep  # the memory, when this instance owns it
        self.values = (ctypes.c_double * len(layout.slots))()
        self._records = (ctypes.c_double * (bench.width * max(len(bench.events), 1)))()
        self._index = {slot.name: slot.index for slot in layout.slots}

    @classmethod
    def new(cls, bench: Bench, layout: Layout) -> PlcBlock:
        memory = ctypes.create_string_buffer(bench.library.hp_size(layout.number))
        address = ctypes.addressof(memory)
        bench.library.hp_init(layout.number, address, 0)
        return cls(bench, layout, address, memory)

    def set(self, name: str, value: float, fault: bool = False) -> None:
        self.bench.library.hp_set(self.layout.number, self.address, self._index[name], value, int(fault))

    def read(self) -> ctypes.Array[ctypes.c_double]:
        """Every variable, in slot order (booleans 0/1, enumerations their position)."""
        self.bench.library.hp_get_all(self.layout.number, self.address, self.values)
        return self.values

    def get(self, name: str) -> float:
        return float(self.read()[self._index[name]])

    def call(self) -> None:
        self.bench.library.hp_body(self.layout.number, self.address)

    def records(self) -> list[tuple[int, int, float, list[float]]]:
        """(kind, event, time_s, values) of each record of the last call."""
        return [(kind, event, time_s, values) for kind, event, time_s, values, _ in self.raw_records()]

    def raw_records(self) -> list[tuple[int, int, float, list[float], list[float]]]:
        """Each record of the last call with all its value slots: (..., values, the slots past them)."""
        count = self.bench.library.hp_records(self.layout.number, self.address, self._records)
        width = self.bench.width
        found = []
        for k in range(count):
            row = self._records[k * width : (k + 1) * width]
            used = 4 + int(row[3])
            found.append((int(row[0]), int(row[1]), row[2], list(row[4:used]), list(row[used:])))
        return found

    def retained(self, name: str) -> bool:
        return bool(self.bench.library.hp_retained(self.layout.number, self.address, self._index[name]))

    def power_cycle(self) -> None:
        self.bench.library.hp_power_cycle(self.layout.number, self.address)


def _typed(kind: str, enum_class: type[enum.Enum] | None, value: float) -> Any:
    if kind == "bool":
        return value != 0.0
    if kind == "int":
        return int(value)
    if kind == "enum":
        assert enum_class is not None
        return list(enum_class)[int(value)]
    return value


def program_classes(bench: Bench, module: ModuleType) -> tuple[dict[str, Any], Any]:
    """Classes with the Python target's interface whose instances run on the PLC code.

    `module` is the Python target of the same package: its classes give the points, alarms
    and enumerations (and check parameters the way the Python target does).
    """
    classes: dict[str, Any] = {}
    for cls in module.Package.PROGRAMS:
        classes[cls.NAME] = _program_class(bench, module, cls)
    return classes, _package_class(bench, module, classes)


def _program_class(bench: Bench, module: ModuleType, python: Any) -> Any:
    layout = bench.block(python.NAME)
    attributes: dict[str, Slot] = {}
    for point in python.POINTS:
        attributes[point.attribute] = layout.slot(point.name)
    for alarm in python.ALARMS:
        name = f"_{alarm.sensor}_faulted" if alarm.sensor else alarm.name
        attributes[alarm.attribute] = layout.slot(name)
    inputs = {p.attribute for p in python.POINTS if p.kind == "input"}
    parameters = {p.attribute for p in python.POINTS if p.kind == "parameter"}

    def enum_of(slot: Slot) -> type[enum.Enum] | None:
        return getattr(module, slot.enum) if slot.enum else None

    def getter(slot: Slot) -> Callable[[Any], Any]:
        enum_class = enum_of(slot)
        return lambda values: _typed(slot.kind, enum_class, values[slot.index])

    getters = {attribute: getter(slot) for attribute, slot in attributes.items()}

    class PlcProgram:
        NAME = python.NAME
        INSTANCE = python.INSTANCE
        POINTS = python.POINTS
        ALARMS = python.ALARMS
        EVENTS = python.EVENTS
        SLOTS = attributes
        RETAINED_ATTRIBUTES = python.RETAINED

        def __init__(self, *, start: datetime.datetime | None = None, **parameters: Any) -> None:
            python(start=start, **parameters)  # the Python target's checks of the parameters
            self.__dict__["_start"] = start or module.DEFAULT_START
            self.__dict__["_parameters"] = parameters
            self.__dict__["alarm_changes"] = []
            self.__dict__["log_entries"] = []
            self.__dict__["_inputs"] = {name: None for name in inputs}
            self.__dict__["_wired"] = frozenset()
            self._attach(PlcBlock.new(bench, layout), standalone=True)

        def _attach(self, block: PlcBlock, *, standalone: bool, wired: frozenset[str] = frozenset()) -> None:
            self.__dict__["block"] = block
            self.__dict__["_wired"] = wired
            for name, value in self._parameters.items():
                slot = attributes[name]
                block.set(slot.name, float(value.value if isinstance(value, enum.Enum) else value))
            if standalone and "@start_second_of_day" in block._index:
                start = self._start
                seconds = start.hour * 3600.0 + start.minute * 60.0 + start.second + start.microsecond / 1e6
                block.set("@start_second_of_day", seconds)
                block.set("@start_weekday", float(start.weekday()))
            for name, value in self._inputs.items():
                self._write(name, value)

        def __setattr__(self, name: str, value: Any) -> None:
            if name in parameters:  # as an HMI writes a parameter: the block checks it at its next call
                slot = attributes[name]
                self.block.set(slot.name, float(value.value if isinstance(value, enum.Enum) else value))
                return
            if name not in inputs:
                raise AttributeError(f"{self.NAME}.{name} is not an input or a parameter of the PLC block")
            self._inputs[name] = value
            self._write(name, value)

        def _write(self, name: str, value: Any) -> None:
            slot = attributes[name]
            if isinstance(value, enum.Enum):
                number, ok = float(value.value), type(value).__name__ == slot.enum
            elif isinstance(value, bool):
                number, ok = float(value), slot.kind == "bool"
            elif isinstance(value, int | float):
                number, ok = float(value), slot.kind in ("int", "real")
            else:
                number, ok = 0.0, False  # missing or not a number: the I/O channel is faulted
            self.block.set(slot.name, number, fault=not ok)

        def __getattr__(self, name: str) -> Any:
            if name in self._wired:  # the package program copies it from its source every call
                return getters[name](self.block.read())
            if name in inputs:
                return self._inputs[name]
            getter = getters.get(name)
            if getter is None:
                raise AttributeError(name)
            return getter(self.block.read())

        @property
        def now(self) -> datetime.datetime:
            start: datetime.datetime = self._start
            return start + datetime.timedelta(seconds=self.block.get("@time_s"))

        def scan(self, dt_s: float) -> None:
            self.block.set("@cycle_time_s", dt_s)
            self.block.call()
            self._collect()

        def _collect(self) -> None:
            changes, logs = [], []
            for kind, number, time_s, values in self.block.records():
                program, name, fields = bench.events[number]
                shown = {}
                for (field_name, field_kind, enum_name), value in zip(fields, values, strict=True):
                    if field_kind.startswith("reading:"):
                        if kind == ALARM_RAISED:  # a faulted reading, as the register holds it
                            shown[field_name] = value
                            continue
                        field_kind = field_kind.removeprefix("reading:")
                    enum_class = getattr(module, enum_name) if enum_name else None
                    shown[field_name] = _typed(field_kind, enum_class, value)
                when = self._start + datetime.timedelta(seconds=time_s)
                if kind in (ALARM_RAISED, ALARM_CLEARED):
                    severity = next(a.severity for a in self.ALARMS if a.name == name)
                    changes.append(
                        module.AlarmRecord(program, name, severity, kind == ALARM_RAISED, time_s, when, shown)
                    )
                else:
                    logs.append(module.LogRecord(program, name, time_s, when, shown))
            self.__dict__["alarm_changes"] = changes
            self.__dict__["log_entries"] = logs

        def active_alarms(self) -> list[str]:
            return [alarm.name for alarm in self.ALARMS if getattr(self, alarm.attribute)]

    PlcProgram.__name__ = PlcProgram.__qualname__ = python.__name__
    return PlcProgram


def _package_class(bench: Bench, module: ModuleType, classes: dict[str, Any]) -> Any:
    main = bench.blocks[-1]
    python = module.Package
    attributes = {cls.NAME: cls.INSTANCE for cls in python.PROGRAMS}

    class PlcPackage:
        PROGRAMS = tuple(classes[cls.NAME] for cls in python.PROGRAMS)
        WIRES = python.WIRES

        def __init__(self, *, start: datetime.datetime | None = None, **programs: Any) -> None:
            self.block = PlcBlock.new(bench, main)
            start = start or module.DEFAULT_START
            self._set_clock(start)
            self._programs = []
            fed = {(wire[0], wire[1]) for wire in self.WIRES}  # (program, input) another program feeds
            for cls in self.PROGRAMS:
                attribute = attributes[cls.NAME]
                instance = programs.get(attribute) or cls(start=start)
                address = bench.library.hp_instance(self.block.address, bench.block(cls.NAME).number)
                wired = frozenset(p.attribute for p in cls.POINTS if (cls.NAME, p.name) in fed)
                instance._attach(
                    PlcBlock(bench, bench.block(cls.NAME), address), standalone=False, wired=wired
                )
                self._programs.append(instance)
                setattr(self, attribute, instance)

        def programs(self) -> tuple[Any, ...]:
            return tuple(self._programs)

        def log(self) -> tuple[int, int, list[tuple[int, int, float, list[float]]]]:
            """The event log of the package program: (sequence, next, the ring's records in slot order)."""
            width = bench.width
            ring = (ctypes.c_double * (width * LOG_SIZE + 1))()
            sequence = int(bench.library.hp_log(self.block.address, ring))
            records = []
            for k in range(LOG_SIZE):
                row = ring[k * width : (k + 1) * width]
                records.append((int(row[0]), int(row[1]), row[2], list(row[4 : 4 + int(row[3])])))
            return sequence, int(ring[width * LOG_SIZE]), records

        def scan(self, dt_s: float) -> None:
            self.block.set("@cycle_time_s", dt_s)
            self.block.call()
            for program in self._programs:
                program._collect()

        def _set_clock(self, when: datetime.datetime) -> None:
            seconds = when.hour * 3600.0 + when.minute * 60.0 + when.second + when.microsecond / 1e6
            self.block.set("@clock_second_of_day", seconds)
            self.block.set("@clock_weekday", float(when.weekday()))

        def power_cycle(self, when: datetime.datetime) -> None:
            """Power off and on at `when`: retained values keep their values, the rest starts again.

            The I/O mapping then writes the parameters, the readings and the real-time clock again.
            """
            self.block.power_cycle()
            self._set_clock(when)
            for program in self._programs:
                program.__dict__["_start"] = when
                program._attach(program.block, standalone=False, wired=program._wired)

    return PlcPackage
