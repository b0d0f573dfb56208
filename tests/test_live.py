"""`hpdsl run`: the live controller against real Modbus TCP devices on loopback, and on the built-in plant.

The devices are pymodbus servers started by the tests on 127.0.0.1; nothing leaves loopback.
The controller is checked against the Python target driven directly with the inputs each scan
was given, so what the network adds (decoding, units, scaling, faults) is all that can differ.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pymodbus")

from fielddevices import BacnetDevice, ModbusDevice, free_udp_port

from hpdsl.base.source import SourceFile
from hpdsl.live import eventlog, modbus
from hpdsl.live import points as points_
from hpdsl.live.bacnet import BacnetField
from hpdsl.live.controller import Controller
from hpdsl.live.field import NetworkField, Readings, output_number
from hpdsl.live.modbus import ModbusField
from hpdsl.live.points import Register
from hpdsl.sim import loaded as loaded_

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "rules" / "points" / "modbus-example.toml"
CYCLE_S = 0.05


@pytest.fixture(scope="module")
def shipped() -> loaded_.LoadedPackage:
    package = loaded_.load([REPO / "rules"])
    assert isinstance(package, loaded_.LoadedPackage)
    return package


def example_points(
    loaded: loaded_.LoadedPackage, port: int, tmp_path: Path, **controller: str
) -> points_.PointsFile:
    """The shipped example points file, pointed at a device on loopback, at a short cycle time."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("127.0.0.1:5020", f"127.0.0.1:{port}")
    settings = {"cycle": f"{CYCLE_S} s", "stale_after": f"{4 * CYCLE_S} s", **controller}
    for key, value in settings.items():
        text = "\n".join(
            f'{key} = "{value}"' if line.startswith(f"{key} =") else line for line in text.splitlines()
        )
    text = text.replace('timeout = "0.5 s"', 'timeout = "0.1 s"')
    source = SourceFile(str(tmp_path / "points.toml"), text + "\n")
    found = points_.check(source, loaded, tmp_path)
    assert found.ok, [str(d.span) + " " + d.message for d in found.diagnostics]
    return found


# --- the points file --------------------------------------------------------------------------


def test_the_shipped_example_maps_every_input_of_the_shipped_package(shipped: loaded_.LoadedPackage) -> None:
    found = points_.read(EXAMPLE, shipped)
    assert found.diagnostics == []
    assert {m.column for m in found.inputs} == {p.column for p in shipped.field_inputs}
    outdoor = next(m for m in found.inputs if m.column == "PlantSignals.outdoor_temp_sensor")
    assert outdoor.to_rules(410) == pytest.approx(5.0)  # 41.0 F in tenths
    power = next(m for m in found.inputs if m.column == "PlantSignals.electrical_power_meter")
    assert power.to_rules(12500.0) == pytest.approx(12.5)  # W -> kW
    stage = next(m for m in found.outputs if m.column == "CompressorStaging.stage_1_speed")
    assert stage.safe == "Off"


def diagnose(loaded: loaded_.LoadedPackage, text: str) -> list[tuple[int, int, str, str]]:
    source = SourceFile("points.toml", textwrap.dedent(text))
    found = points_.check(source, loaded)
    return [(d.span.line, d.span.column, d.code, f"{d.message} | {d.hint}") for d in found.diagnostics]


HEADER = """\
[devices.io]
protocol = "modbus"
address = "127.0.0.1:5020"
"""


def only(found: list[tuple[int, int, str, str]], code: str) -> list[tuple[int, int, str, str]]:
    return [d for d in found if d[2] == code]


def test_a_unit_of_another_quantity_is_reported_at_its_unit(shipped: loaded_.LoadedPackage) -> None:
    found = diagnose(
        shipped,
        HEADER
        + """
[points."PlantSignals.outdoor_temp_sensor"]
device = "io"
register = "input 0"
unit = "K"
""",
    )
    (line, column, _, message) = only(found, "points-unit")[0]
    assert (line, column) == (8, 8)
    assert "temperature difference" in message and "temperature" in message
    # corrected: a unit of the same quantity converts, and the error goes
    fixed = diagnose(
        shipped,
        HEADER
        + '\n[points."PlantSignals.outdoor_temp_sensor"]\ndevice = "io"\nregister = "input 0"\nunit = "F"\n',
    )
    assert only(fixed, "points-unit") == []


def test_a_numeric_point_without_a_unit_is_a_unit_error(shipped: loaded_.LoadedPackage) -> None:
    found = diagnose(
        shipped, HEADER + '\n[points."PlantSignals.space_temp_sensor"]\ndevice = "io"\nregister = "input 0"\n'
    )
    assert [(d[0], d[2]) for d in only(found, "points-unit")] == [(5, "points-unit")]


def test_every_unmapped_input_is_an_error_before_start(shipped: loaded_.LoadedPackage) -> None:
    found = diagnose(shipped, HEADER)
    unmapped = {d[3].split(" | ")[0] for d in only(found, "points-unmapped")}
    assert len(unmapped) == len(shipped.field_inputs) == 23
    assert "input `PlantSignals.outdoor_temp_sensor` is mapped to no field point" in unmapped


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ('[points."PlantSignals.outdoor_temp_sensr"]\ndevice = "io"\n', (5, 10), "did you mean"),
        ('[points."AuxHeat.aux_stage_1"]\ndevice = "io"\nregister = "input 4"\n', (7, 12), "read-only"),
        ('[points."AuxHeat.aux_stage_1"]\ndevice = "iox"\nregister = "coil 4"\n', (6, 10), "names no device"),
        (
            '[points."PlantSignals.space_temp_sensor"]\ndevice = "io"\nregister = "input 0"\n'
            'type = "float64"\n',
            (8, 8),
            "not a register type",
        ),
        (
            '[points."PlantSignals.space_temp_sensor"]\ndevice = "io"\nregister = "coil 0"\nunit = "C"\n',
            (7, 12),
            "holds bits",
        ),
        (
            '[points."PerformanceTracking.aux_runtime_today"]\ndevice = "io"\nregister = "holding 0"\n',
            (5, 10),
            "total",
        ),
        ('[controller]\ncycle = "1 K"\n', (2, 9), "not a duration"),
        ("[controller]\ncycle = 1\n", (2, 9), "needs a duration"),
        (
            '[devices.io]\nprotocol = "modbus"\naddress = "127.0.0.1:5020"\nunit_id = 300\n',
            (4, 11),
            "whole number",
        ),
        ("x = 45C\n", (1, 7), "not valid TOML"),
    ],
)
def test_each_mistake_in_a_points_file_is_reported_at_its_place(
    shipped: loaded_.LoadedPackage, body: str, where: tuple[int, int], words: str
) -> None:
    text = body if body.startswith(("[devices", "[controller", "x =")) else HEADER + "\n" + body
    found = [d for d in diagnose(shipped, text) if d[2] == "points-file"]
    assert found, diagnose(shipped, text)
    line, column, _, message = found[0]
    assert words in message, found
    assert (line, column) == where, found


# --- registers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "order", "number", "words"),
    [
        ("int16", "big", -215.0, [0xFF29]),
        ("uint16", "big", 65535.0, [0xFFFF]),
        ("int32", "big", -2.0, [0xFFFF, 0xFFFE]),
        ("uint32", "little", 70000.0, [0x1170, 0x0001]),
        ("float32", "big", 21.5, [0x41AC, 0x0000]),
        ("float32", "little", 21.5, [0x0000, 0x41AC]),
    ],
)
def test_registers_encode_and_decode_as_the_devices_hold_them(
    kind: str, order: str, number: float, words: list[int]
) -> None:
    register = Register("holding", 0, kind, order)  # type: ignore[arg-type]
    assert modbus.encode(number, register) == words
    assert modbus.decode(words, register) == number


def test_a_value_beyond_its_register_is_not_written() -> None:
    assert modbus.encode(70000.0, Register("holding", 0, "int16")) is None
    assert modbus.encode(math.nan, Register("holding", 0, "float32")) is None


# --- a day on a Modbus device -------------------------------------------------------------------

# What every sensor reads when the plant is well.
SANE = {
    "PlantSignals.outdoor_temp_sensor": 5.0,
    "PlantSignals.outdoor_coil_temp_sensor": 2.0,
    "PlantSignals.load_demand_signal": 50.0,
    "PlantSignals.supply_water_temp_sensor": 40.0,
    "PlantSignals.return_water_temp_sensor": 35.0,
    "PlantSignals.source_water_temp_sensor": 10.0,
    "PlantSignals.electrical_power_meter": 4.0,
    "PlantSignals.space_temp_sensor": 21.0,
    "EquipmentProtection.discharge_temp": 70.0,
    "EquipmentProtection.suction_pressure": 6.0,
    "EquipmentProtection.discharge_pressure": 25.0,
    "EquipmentProtection.compressor_current": 12.0,
    "Performance.load_flow": 0.8,
    "DefrostControl.outdoor_humidity": 70.0,
    "DefrostControl.coil_outlet_temp": 30.0,
    "AuxHeat.required_heat": 8.0,
    "SupplyTemperatureCheck.supply_temp_target": 40.0,
    "PerformanceTracking.time_since_commissioning": 240.0,
}

# A day of plant behaviour, one row per cycle: outdoor temperature (C), load demand (%), compressor
# running, space temperature (C). A cold morning, a mild noon, a cold evening.
DAY = [
    (
        -8.0 + 22.0 * math.sin(math.pi * k / 80.0),
        80.0 - 50.0 * math.sin(math.pi * k / 80.0),
        k % 40 > 5,
        20.0 + k % 7 * 0.3,
    )
    for k in range(80)
]


class Recorded(NetworkField):
    """The network field, remembering what each scan was given."""

    def __init__(self, readings: Readings, links: list[Any], loaded: loaded_.LoadedPackage) -> None:
        super().__init__(readings, links)
        self.inputs = [(p.instance, p.attribute) for p in loaded.field_inputs]
        self.fed: list[tuple[Any, ...]] = []

    def feed(self, package: Any, now: float) -> None:
        super().feed(package, now)
        self.fed.append(tuple(getattr(getattr(package, i), a) for i, a in self.inputs))


def outputs_of(package: Any, loaded: loaded_.LoadedPackage) -> tuple[Any, ...]:
    values = tuple(
        getattr(getattr(package, p.instance), p.attribute)
        for p in loaded.points
        if p.role in ("output", "alarm")
    )
    return values + tuple(
        sorted(a for cls in type(package).PROGRAMS for a in getattr(package, cls.INSTANCE).active_alarms())
    )


async def run_day(
    loaded: loaded_.LoadedPackage, found: points_.PointsFile, device: ModbusDevice, script: Any, cycles: int
) -> tuple[Controller, Recorded, list[tuple[float, tuple[Any, ...]]]]:
    log = eventlog.EventLog(found.event_log or Path("."), 1 << 20, 3)
    readings = Readings(loaded, found.inputs, found.stale_after_s)

    def record(kind: str, fields: dict[str, object]) -> None:
        log.append({"kind": kind, **fields})

    package = loaded.new()
    links: list[Any] = [ModbusField(loaded, found, readings, record)]
    if found.server is not None:
        bacnet = BacnetField(loaded, found, readings, package, record)
        log.listeners.append(bacnet.device.logged)
        links.append(bacnet)
    field = Recorded(readings, links, loaded)
    seen: list[tuple[float, tuple[Any, ...]]] = []

    def on_scan(pkg: Any, summary: Any) -> None:
        seen.append((pkg.plant_signals._time_s, outputs_of(pkg, loaded)))

    controller = Controller(package, field, found.cycle_s, log=log, duration_s=None, on_scan=on_scan)

    running = asyncio.create_task(controller.run())
    try:
        await asyncio.wait_for(script(controller, field), timeout=60)
    finally:
        controller.stop("script")
        await asyncio.wait_for(running, timeout=10)
        log.close()
    assert controller.summary.scans >= cycles * 0.5
    return controller, field, seen


def replay(
    loaded: loaded_.LoadedPackage, fed: list[tuple[Any, ...]], seen: list[tuple[float, tuple[Any, ...]]]
) -> None:
    """Drive the Python target directly with the inputs each scan was given; compare every scan."""
    package = loaded.new()
    previous = 0.0
    for k, (values, (time_s, expected)) in enumerate(zip(fed, seen, strict=True)):
        for point, value in zip(loaded.field_inputs, values, strict=True):
            setattr(getattr(package, point.instance), point.attribute, value)
        package.scan(time_s - previous)
        previous = time_s
        assert outputs_of(package, loaded) == expected, f"scan {k} differs"


@pytest.mark.heavy
def test_a_day_on_a_modbus_device_matches_the_python_target(
    shipped: loaded_.LoadedPackage, tmp_path: Path
) -> None:
    async def main() -> None:
        device = ModbusDevice()
        await device.start()
        found = example_points(shipped, device.port, tmp_path)
        by_column = {m.column: m for m in found.inputs}
        out = {m.column: m for m in found.outputs}
        scripted = (
            "outdoor_temp_sensor",
            "load_demand_signal",
            "compressor_running_status",
            "space_temp_sensor",
        )
        constant = {k: v for k, v in SANE.items() if not k.endswith(scripted)}
        for column, value in constant.items():
            await device.set_input(by_column[column], value)
        # 41.0 F in tenths, written as the device holds it (not through the codec under test)
        await device.set_words("input", 0, [410])

        async def script(controller: Controller, field: Recorded) -> None:
            await asyncio.sleep(5 * CYCLE_S)
            # 410 tenths of a degree F reached the rules as 5 C
            assert field.fed[-1][0] == pytest.approx(5.0), field.fed[-1]
            for outdoor, demand, running, space in DAY:
                await device.set_input(by_column["PlantSignals.outdoor_temp_sensor"], outdoor)
                await device.set_input(by_column["PlantSignals.load_demand_signal"], demand)
                await device.set_input(by_column["PlantSignals.compressor_running_status"], running)
                await device.set_input(by_column["PlantSignals.space_temp_sensor"], space)
                await asyncio.sleep(CYCLE_S)
            await asyncio.sleep(4 * CYCLE_S)
            # what the device holds now is what the controller's last scan commanded
            package = controller.package
            for column, mapping in out.items():
                point = mapping.point
                value = getattr(getattr(package, point.instance), point.attribute)
                number = output_number(mapping, value)
                assert number is not None and isinstance(mapping.where, Register), column
                register = mapping.where
                held = (  # as the register stores it: rounded to its type
                    float(number != 0.0)
                    if register.table == "coil"
                    else modbus.decode(modbus.encode(number, register) or [], register)
                )
                assert await device.output(mapping) == pytest.approx(held), column

        controller, field, seen = await run_day(shipped, found, device, script, len(DAY))
        replay(shipped, field.fed, seen)
        # the day reached both modes: the rules really ran on what the device reported
        names = [p.column for p in shipped.points if p.role in ("output", "alarm")]
        varied = {n for k, n in enumerate(names) if len({str(o[k]) for _, o in seen}) > 1}
        assert {"OperatingRegime.regime", "CapacityDerating.hp_max_capacity", "Performance.cop"} <= varied
        # before the first readings arrived the inputs were faulted (as at power-up); by the end none is
        last = seen[-1][1]
        assert not [n for k, n in enumerate(names) if n.endswith("sensor_fault") and last[k]]
        # stopped: every output with a safe state holds it
        for column in (
            "AuxHeat.aux_stage_1",
            "AuxHeat.backup_heat_enable",
            "CompressorStaging.stage_1_speed",
        ):
            assert await device.output(out[column]) == 0.0, column
        assert controller.summary.safe_outputs == len([m for m in found.outputs if m.safe is not None])
        await device.stop()

    asyncio.run(main())


# --- faults -------------------------------------------------------------------------------------


def sensor_faults(package: Any) -> set[str]:
    """The sensor-fault alarms of the field inputs active now."""
    return {
        f"{cls.NAME}.{name}"
        for cls in type(package).PROGRAMS
        for name in getattr(package, cls.INSTANCE).active_alarms()
        if name.endswith("_sensor_fault")
        and cls.NAME in ("PlantSignals", "EquipmentProtection", "Performance")
    }


async def until(check: Any, what: str, cycles: int = 60) -> None:
    for _ in range(cycles):
        if check():
            return
        await asyncio.sleep(CYCLE_S)
    raise AssertionError(f"not within {cycles} cycles: {what}")


@pytest.mark.heavy
def test_device_faults_are_sensor_faults_and_the_loop_goes_on(
    shipped: loaded_.LoadedPackage, tmp_path: Path
) -> None:
    meter = "PlantSignals.electrical_power_meter_sensor_fault"
    outdoor = "PlantSignals.outdoor_temp_sensor_sensor_fault"
    every_plant_sensor = {
        f"PlantSignals.{p.column.split('.')[1]}_sensor_fault"
        for p in shipped.field_inputs
        if p.column.startswith("PlantSignals.")
    }

    async def main() -> None:
        device = ModbusDevice()
        await device.start()
        found = example_points(shipped, device.port, tmp_path)
        by_column = {m.column: m for m in found.inputs}
        for column, value in SANE.items():
            await device.set_input(by_column[column], value)
        timeline: list[tuple[str, int, float]] = []

        async def script(controller: Controller, field: Recorded) -> None:
            package = controller.package

            def mark(what: str) -> None:
                timeline.append((what, controller.summary.scans, time.monotonic()))

            await until(lambda: not sensor_faults(package), "the readings arrive")
            mark("healthy")
            await device.stop()  # the device goes down
            await until(lambda: every_plant_sensor <= sensor_faults(package), "every input faulted")
            mark("down")
            await device.start()  # and comes back on the same port
            await until(lambda: not sensor_faults(package), "the faults clear")
            mark("back")
            device.delay_s = 0.3  # answers after the 0.1 s timeout
            await until(lambda: every_plant_sensor <= sensor_faults(package), "slow replies fault")
            device.delay_s = 0.0
            await until(lambda: not sensor_faults(package), "the faults clear after slow replies")
            mark("slow")
            device.failing = True  # answers with an exception code
            await until(lambda: every_plant_sensor <= sensor_faults(package), "exception codes fault")
            device.failing = False
            await until(lambda: not sensor_faults(package), "the faults clear after exception codes")
            mark("failing")
            await device.set_words("input", 6, [0x7FC0, 0x0000])  # the meter reads NaN
            await device.set_words("input", 0, [32767])  # 3276.7 F: beyond the sensor's range
            await until(lambda: {meter, outdoor} <= sensor_faults(package), "garbage values fault")
            assert sensor_faults(package) == {meter, outdoor}  # only those two
            await device.set_input(by_column["PlantSignals.electrical_power_meter"], 4.0)
            await device.set_input(by_column["PlantSignals.outdoor_temp_sensor"], 5.0)
            await until(lambda: not sensor_faults(package), "the faults clear after garbage")
            mark("garbage")

        controller, _, _ = await run_day(shipped, found, device, script, 0)
        await device.stop()
        # the loop never stopped: a scan every cycle, whatever the device did
        (_, first_scans, first_time), (_, last_scans, last_time) = timeline[0], timeline[-1]
        expected = (last_time - first_time) / CYCLE_S
        assert last_scans - first_scans >= 0.5 * expected, (last_scans - first_scans, expected)
        assert controller.summary.stopped_by == "script"
        log = eventlog.read(found.event_log or tmp_path)
        kinds = [str(r["kind"]) for r in log.records]
        assert log.damaged == 0
        assert kinds.count("comm_fault") == kinds.count("comm_restored") == 3, kinds  # down, slow, failing
        raised = {str(r["alarm"]) for r in log.records if r["kind"] == "alarm_raised"}
        assert {"outdoor_temp_sensor_sensor_fault", "electrical_power_meter_sensor_fault"} <= raised
        assert [k for k in kinds if k.startswith("controller")] == [
            "controller_started",
            "controller_stopped",
        ]

    asyncio.run(main())


# --- the command, on the built-in plant ---------------------------------------------------------


def hpdsl(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CI": "true"}
    return subprocess.Popen(
        [sys.executable, "-m", "hpdsl", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_run_on_the_built_in_plant_for_a_day(tmp_path: Path) -> None:
    process = hpdsl(
        "run", str(REPO / "rules"), "--plant", "sim", "--speed", "max", "--duration", "1d", cwd=tmp_path
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "86,401 scans at 1 s (24.00 h of plant time)" in out and "stopped by duration" in out
    log = eventlog.read(tmp_path / "events")
    kinds = [r["kind"] for r in log.records]
    assert kinds[0] == "controller_started" and kinds[-1] == "controller_stopped"
    defrosts = [r for r in log.records if r.get("event") == "defrost_completed"]
    assert defrosts and all(
        r["units"] == {"duration": "min", "coil_outlet_temp": "C", "outdoor_temp": "C"} for r in defrosts
    )
    assert str(defrosts[0]["time"]).startswith("2024-01-01T")


def test_a_killed_controller_loses_no_record(tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    killed.mkdir()
    args = ["run", str(REPO / "rules"), "--plant", "sim", "--speed", "max", "--cycle", "1min"]
    process = hpdsl(*args, "--duration", "3650d", cwd=killed)
    deadline = time.monotonic() + 60
    current = killed / "events" / "events.jsonl"
    while time.monotonic() < deadline:
        if current.exists() and current.read_text(encoding="utf-8").count("\n") >= 40:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    cut = eventlog.read(killed / "events")
    assert cut.damaged == 0 and len(cut.records) >= 40
    assert cut.records[-1]["kind"] != "controller_stopped"  # it never got to say goodbye
    # The same run, complete to a day past the last record: the killed log is exactly its beginning.
    last = str(cut.records[-1]["time"])[:10]
    days = (datetime.date.fromisoformat(last) - datetime.date(2024, 1, 1)).days + 2
    whole = tmp_path / "whole"
    whole.mkdir()
    reference = hpdsl(*args, "--duration", f"{days}d", cwd=whole)
    _, err = reference.communicate(timeout=120)
    assert reference.returncode == 0, err
    full = eventlog.read(whole / "events").records
    assert full[: len(cut.records)] == cut.records


def test_sigterm_stops_the_controller_cleanly(tmp_path: Path) -> None:
    process = hpdsl("run", str(REPO / "rules"), "--plant", "sim", "--cycle", "0.1s", cwd=tmp_path)
    current = tmp_path / "events" / "events.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (current.exists() and current.stat().st_size):
        time.sleep(0.05)  # until the controller has started (it logs that first)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped by SIGTERM" in out
    records = eventlog.read(tmp_path / "events").records
    assert records[-1]["kind"] == "controller_stopped" and records[-1]["by"] == "SIGTERM"


def test_a_points_file_with_errors_stops_before_start(tmp_path: Path) -> None:
    points = tmp_path / "points.toml"
    points.write_text(HEADER, encoding="utf-8")
    process = hpdsl("run", str(REPO / "rules"), "--points", str(points), cwd=tmp_path)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert (
        "points.toml:1:1: error: input `PlantSignals.outdoor_temp_sensor` is mapped to no field point"
        " [points-unmapped]" in err
    )
    assert not (tmp_path / "events").exists()


def test_run_needs_points_or_the_plant(tmp_path: Path) -> None:
    process = hpdsl("run", str(REPO / "rules"), cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "--points FILE" in err and "--plant sim" in err and "Traceback" not in err


# --- the event log ------------------------------------------------------------------------------


def test_the_event_log_rotates_and_keeps_every_record_in_order(tmp_path: Path) -> None:
    log = eventlog.EventLog(tmp_path, rotate_bytes=4096, keep=50)
    for k in range(2000):
        log.append({"kind": "event", "k": k, "value": math.nan if k == 7 else k / 3})
    log.close()
    files = eventlog.files(tmp_path)
    assert len(files) > 10 and all(f.stat().st_size <= 4096 for f in files)
    read = eventlog.read(tmp_path)
    assert [r["k"] for r in read.records] == list(range(2000)) and read.damaged == 0
    assert read.records[7]["value"] == "nan"


def test_the_event_log_keeps_its_newest_files(tmp_path: Path) -> None:
    log = eventlog.EventLog(tmp_path, rotate_bytes=4096, keep=3)
    for k in range(2000):
        log.append({"k": k})
    log.close()
    assert len(eventlog.files(tmp_path)) == 4  # the current file and three rotated ones
    kept = [r["k"] for r in eventlog.read(tmp_path).records]
    assert kept == list(range(kept[0], 2000))


def test_a_line_a_power_cut_left_half_written_is_skipped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text('{"k": 1}\n{"k": 2, "fie', encoding="utf-8")
    log = eventlog.EventLog(tmp_path, rotate_bytes=1 << 20, keep=3)
    log.append({"k": 3})
    log.close()
    read = eventlog.read(tmp_path)
    assert [r["k"] for r in read.records] == [1, 3] and read.damaged == 1


# --- BACnet/IP ----------------------------------------------------------------------------------

ON_BACNET = {
    "PlantSignals.outdoor_temp_sensor": 'object = "analog-input,2"\nunit = "F"',
    "PlantSignals.space_temp_sensor": 'object = "analog-value,1"\nunit = "C"',
    "Occupancy.occupancy_override": 'object = "binary-value,1"',
    "Changeover.system_mode": 'object = "multi-state-value,1"',
    "AuxHeat.aux_stage_1": 'object = "binary-output,1"\nsafe = false',
    "Occupancy.heating_setpoint": 'object = "analog-value,3"\nunit = "C"',
}


def mixed_points(
    loaded: loaded_.LoadedPackage, modbus_port: int, bacnet: BacnetDevice, server_port: int, tmp_path: Path
) -> points_.PointsFile:
    """The example points file with some points moved to a BACnet device, and the controller's own device."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("127.0.0.1:5020", f"127.0.0.1:{modbus_port}")
    blocks = text.split("\n\n")
    kept = [b for b in blocks if not any(f'[points."{column}"]' in b for column in ON_BACNET)]
    text = "\n\n".join(kept).replace('cycle = "1 s"', f'cycle = "{CYCLE_S} s"')
    text = text.replace('stale_after = "5 s"', f'stale_after = "{4 * CYCLE_S} s"').replace(
        'timeout = "0.5 s"', 'timeout = "0.1 s"'
    )
    text += f"""
[devices.bms]
protocol = "bacnet"
address = "127.0.0.1:{bacnet.port}"
device_id = {bacnet.device_id}
timeout = "0.2 s"

[server]
address = "127.0.0.1:{server_port}"
device_id = 599
name = "plant room controller"
"""
    for column, body in ON_BACNET.items():
        text += f'\n[points."{column}"]\ndevice = "bms"\n{body}\n'
    found = points_.check(SourceFile(str(tmp_path / "points.toml"), text), loaded, tmp_path)
    assert found.ok, [f"{d.span} {d.message}" for d in found.diagnostics]
    return found


@pytest.mark.heavy
def test_bacnet_devices_and_the_controllers_own_device(
    shipped: loaded_.LoadedPackage, tmp_path: Path
) -> None:
    from bacpypes3.apdu import ErrorRejectAbortNack
    from bacpypes3.app import Application
    from bacpypes3.local.device import DeviceObject
    from bacpypes3.local.networkport import NetworkPortObject
    from bacpypes3.pdu import Address
    from bacpypes3.primitivedata import Real

    async def main() -> None:
        plant_io = ModbusDevice()
        await plant_io.start()
        bms = BacnetDevice(
            {
                "analog-input,2": 41.0,  # F
                "analog-value,1": 21.0,
                "binary-value,1": False,
                "multi-state-value,1": 1,
                "binary-output,1": True,
                "analog-value,3": 0.0,
            }
        )
        bms.start()
        server_port = free_udp_port()
        # Every BACnet address of the test is a loopback host without a netmask: its broadcast
        # address is itself, so not even a Who-Is leaves 127.0.0.0/8.
        for port in (bms.port, server_port):
            assert Address(f"127.0.0.1:{port}").addrBroadcastTuple == ("127.0.0.1", port)
        found = mixed_points(shipped, plant_io.port, bms, server_port, tmp_path)
        by_column = {m.column: m for m in found.inputs}
        for column, value in SANE.items():
            if column in by_column and by_column[column].device.protocol == "modbus":
                await plant_io.set_input(by_column[column], value)
        # A BACnet workstation on loopback, reading and writing the controller's own objects.
        workstation = Application.from_object_list(
            [
                DeviceObject(objectIdentifier=("device", 7), objectName="workstation", vendorIdentifier=999),
                NetworkPortObject(
                    f"127.0.0.1:{free_udp_port()}",
                    objectIdentifier=("network-port", 1),
                    objectName="NetworkPort-1",
                ),
            ]
        )
        controller_address = Address(f"127.0.0.1:{server_port}")

        async def script(controller: Controller, field: Recorded) -> None:
            package = controller.package
            device = next(link for link in field.links if isinstance(link, BacnetField)).device
            ids = {str(o.objectName): o.objectIdentifier for o in device.objects}
            await until(lambda: not sensor_faults(package), "the readings arrive")
            assert package.plant_signals.outdoor_temp_sensor == pytest.approx(
                5.0
            )  # 41 F from an analog input
            for k, (outdoor, _, _, space) in enumerate(DAY[:30]):
                bms.set("analog-input,2", outdoor * 1.8 + 32.0)
                bms.set("analog-value,1", space)
                bms.set("binary-value,1", k % 10 == 0)
                await asyncio.sleep(CYCLE_S)
            await asyncio.sleep(4 * CYCLE_S)
            # the outputs on the BACnet device are what the last scan commanded
            mode = package.changeover.system_mode.name
            assert bms.get("multi-state-value,1") == ["Heating", "Cooling"].index(mode) + 1
            assert bms.get("analog-value,3") == pytest.approx(package.occupancy.heating_setpoint)
            # the controller's own device: outputs with their units, alarms with their severity
            read = workstation.read_property
            setpoint = ids["Occupancy.heating_setpoint"]
            assert float(await read(controller_address, setpoint, "present-value")) == pytest.approx(
                package.occupancy.heating_setpoint
            )
            assert str(await read(controller_address, setpoint, "units")) == "degrees-celsius"
            alarm = ids["alarm PlantSignals.outdoor_temp_sensor_sensor_fault"]
            assert str(await read(controller_address, alarm, "description")).startswith("severity high:")
            # a parameter within its range is applied; outside it, refused with a BACnet error
            parameter = ids["Changeover.cooling_above"]
            await workstation.write_property(controller_address, parameter, "present-value", Real(24.0))
            assert package.changeover.cooling_above == 24.0
            with pytest.raises(ErrorRejectAbortNack) as refused:
                await workstation.write_property(controller_address, parameter, "present-value", Real(45.0))
            assert "value-out-of-range" in str(refused.value)
            assert package.changeover.cooling_above == 24.0
            with pytest.raises(ErrorRejectAbortNack) as denied:
                await workstation.write_property(controller_address, setpoint, "present-value", Real(30.0))
            assert "write-access-denied" in str(denied.value)
            # the BACnet device goes down: its inputs are sensor faults; it comes back: they clear
            bms.stop()
            outdoor = "PlantSignals.outdoor_temp_sensor_sensor_fault"
            await until(lambda: outdoor in sensor_faults(package), "the BACnet inputs fault")
            bms.start()
            await until(lambda: not sensor_faults(package), "the BACnet inputs come back")
            # slow replies (beyond the 0.2 s timeout) are faults too
            bms.delay_s = 0.5
            await until(lambda: outdoor in sensor_faults(package), "slow BACnet replies fault", cycles=100)
            bms.delay_s = 0.0
            await until(lambda: not sensor_faults(package), "the faults clear", cycles=100)
            # a garbage value (NaN from an analog value) is that input's fault alone
            space = "PlantSignals.space_temp_sensor_sensor_fault"
            bms.set("analog-value,1", math.nan)
            await until(lambda: space in sensor_faults(package), "a NaN faults its input")
            assert sensor_faults(package) == {space}
            bms.set("analog-value,1", 21.0)
            await until(lambda: not sensor_faults(package), "the fault clears")
            # the event log is published as it is written
            count = float(await read(controller_address, ids["event_log_records"], "present-value"))
            assert count >= 4
            newest = json.loads(str(await read(controller_address, ids["event_log"], "present-value")))
            assert "kind" in newest

        try:
            _, field, seen = await run_day(shipped, found, plant_io, script, 0)
        finally:
            workstation.close()
        replay(shipped, field.fed, seen)
        assert bms.get("binary-output,1") == 0.0  # aux stage 1 at its safe state after the stop
        bms.stop()
        await plant_io.stop()

    asyncio.run(main())


# --- docs/runtime.md ----------------------------------------------------------------------------


def runtime_doc_toml() -> list[str]:
    text = (REPO / "docs" / "runtime.md").read_text(encoding="utf-8")
    return [block.split("```", 1)[0] for block in text.split("```toml\n")[1:]]


def tables(text: str) -> list[str]:
    """The tables of a TOML text, each from its header to the line before the next one."""
    found: list[str] = []
    for line in text.strip().splitlines():
        if line.startswith("["):
            found.append("")
        if found and line.strip() and not line.startswith("#"):
            found[-1] += line + "\n"
    return [t.strip() for t in found]


def test_the_runtime_docs_show_the_shipped_example_as_it_is(shipped: loaded_.LoadedPackage) -> None:
    shown, _ = runtime_doc_toml()
    example = tables(EXAMPLE.read_text(encoding="utf-8"))
    for table in tables(shown):
        assert table in example, table


def test_the_runtime_docs_bacnet_fragment_fits_the_shipped_package(
    shipped: loaded_.LoadedPackage, tmp_path: Path
) -> None:
    _, fragment = runtime_doc_toml()
    replaced = {t.splitlines()[0] for t in tables(fragment)}
    kept = [t for t in tables(EXAMPLE.read_text(encoding="utf-8")) if t.splitlines()[0] not in replaced]
    text = "\n\n".join([*kept, fragment])
    found = points_.check(SourceFile("points.toml", text + "\n"), shipped, tmp_path)
    assert found.diagnostics == []
    assert found.server is not None and found.server.device_id == 599


def test_a_reading_older_than_stale_after_is_no_value(shipped: loaded_.LoadedPackage) -> None:
    found = points_.read(EXAMPLE, shipped)
    readings = Readings(shipped, found.inputs, stale_after_s=5.0)
    package = shipped.new()
    readings.put("PlantSignals.space_temp_sensor", 21.5, now=100.0)
    readings.feed(package, now=104.9)
    assert package.plant_signals.space_temp_sensor == 21.5
    readings.feed(package, now=105.1)  # the device went quiet: the value is stale
    assert package.plant_signals.space_temp_sensor is None
    package.scan(0.0)
    assert "space_temp_sensor_sensor_fault" in package.plant_signals.active_alarms()
    assert package.plant_signals.space_temp == 19.0  # its fallback


def test_a_taken_bacnet_port_or_an_unwritable_log_stops_before_start(
    shipped: loaded_.LoadedPackage, tmp_path: Path
) -> None:
    import socket

    _, fragment = runtime_doc_toml()
    replaced = {t.splitlines()[0] for t in tables(fragment)}
    kept = [t for t in tables(EXAMPLE.read_text(encoding="utf-8")) if t.splitlines()[0] not in replaced]
    port = free_udp_port()
    points = tmp_path / "points.toml"
    points.write_text("\n\n".join([*kept, fragment.replace("127.0.0.1:47808", f"127.0.0.1:{port}")]) + "\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", port))
        process = hpdsl("run", str(REPO / "rules"), "--points", str(points), "--duration", "1s", cwd=tmp_path)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 2 and "Traceback" not in err
    assert f"cannot listen on 127.0.0.1:{port} for the controller's BACnet device" in err
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    process = hpdsl(
        "run", str(REPO / "rules"), "--plant", "sim", "--event-log", str(blocked / "log"), cwd=tmp_path
    )
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2 and "cannot write the event log" in err and "Traceback" not in err
