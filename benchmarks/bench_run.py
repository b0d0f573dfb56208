"""How steady `hpdsl run` keeps its cycle: scan jitter at a 1 s cycle time against a Modbus TCP device.

    python3 benchmarks/bench_run.py [--cycles N] [--cycle SECONDS]

1. Reference: a bare asyncio loop that wakes on the same 1 s grid and does nothing, in this
   process, in the same run: the lateness the event loop and the operating system give anyway.
2. The controller: the shipped package with the example points file, every input read from and
   every output written to a Modbus TCP device served by another process on loopback
   (pymodbus), for the same number of cycles. Lateness is how long after its slot on the grid
   each scan started; the scan time is the package's own.
3. A day on the built-in plant (`--plant sim --speed max`): scans per second of wall time.

Not a test: machines are noisy, so the numbers go into docs/runtime.md, not into assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hpdsl.base.source import SourceFile  # noqa: E402
from hpdsl.live import eventlog  # noqa: E402
from hpdsl.live import points as points_  # noqa: E402
from hpdsl.live.controller import Controller  # noqa: E402
from hpdsl.live.field import NetworkField, Readings  # noqa: E402
from hpdsl.live.modbus import ModbusField  # noqa: E402
from hpdsl.sim import loaded as loaded_  # noqa: E402

EXAMPLE = REPO / "rules" / "points" / "modbus-example.toml"


def serve(port: int) -> None:
    """A Modbus TCP device with plausible readings, until killed (runs in its own process)."""
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    registers = [0] * 512
    for address, value in {0: 410, 1: 20, 2: 500, 3: 400, 4: 350, 5: 100, 8: 210, 9: 700, 10: 600}.items():
        registers[address] = value
    registers[6], registers[7] = 0x457A, 0x0000  # 4000.0 W as float32
    registers[11], registers[12], registers[13], registers[14], registers[15] = 2500, 120, 80, 700, 300
    registers[16], registers[17] = 0x4100, 0x0000  # 8.0 kW
    registers[18], registers[20] = 400, 5760  # 40.0 C; 5760 h
    device = SimDevice(
        1,
        simdata=(
            [SimData(0, count=64, values=False, datatype=DataType.BITS)],
            [SimData(0, count=64, values=False, datatype=DataType.BITS)],
            [SimData(0, count=512, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, values=registers, datatype=DataType.REGISTERS)],
        ),
        use_bit_addressing=True,
    )

    async def forever() -> None:
        server = ModbusTcpServer(device, address=("127.0.0.1", port))
        await server.serve_forever()

    asyncio.run(forever())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"{statistics.median(ordered):.2f} / {p99:.2f} / {ordered[-1]:.2f}"


async def reference(cycles: int, cycle_s: float) -> list[float]:
    began = time.monotonic()
    late: list[float] = []
    for k in range(cycles):
        delay = began + k * cycle_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append((time.monotonic() - began - k * cycle_s) * 1000.0)
    return late


async def controlled(loaded: Any, port: int, cycles: int, cycle_s: float, folder: Path) -> Any:
    text = EXAMPLE.read_text(encoding="utf-8").replace("127.0.0.1:5020", f"127.0.0.1:{port}")
    text = text.replace('cycle = "1 s"', f'cycle = "{cycle_s} s"')
    found = points_.check(SourceFile("points.toml", text), loaded, folder)
    assert found.ok, [d.message for d in found.diagnostics]
    log = eventlog.EventLog(folder / "events", 1 << 20, 3)
    readings = Readings(loaded, found.inputs, found.stale_after_s)
    field = NetworkField(readings, [ModbusField(loaded, found, readings, lambda kind, fields: None)])
    package = loaded.new()
    controller = Controller(package, field, cycle_s, log=log, duration_s=(cycles - 1) * cycle_s)
    try:
        return await controller.run()
    finally:
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=60)
    parser.add_argument("--cycle", type=float, default=1.0)
    args = parser.parse_args()
    loaded = loaded_.load([REPO / "rules"])
    assert isinstance(loaded, loaded_.LoadedPackage)
    port = free_port()
    device = multiprocessing.Process(target=serve, args=(port,), daemon=True)
    device.start()
    time.sleep(1.0)
    try:
        ref = asyncio.run(reference(args.cycles, args.cycle))
        with tempfile.TemporaryDirectory() as folder:
            run = asyncio.run(controlled(loaded, port, args.cycles, args.cycle, Path(folder)))
    finally:
        device.kill()
    link = run.links[0]
    print(
        f"## Scan jitter at a {args.cycle:g} s cycle, {args.cycles} cycles"
        " (median / 99th percentile / largest, ms)"
    )
    print()
    print("| what | lateness of the scan start | scan time |")
    print("|---|---|---|")
    print(f"| reference: a bare asyncio loop on the same grid | {summary(ref)} | - |")
    print(
        "| `hpdsl run` against a Modbus TCP device on loopback"
        f" | {summary(run.late_ms)} | {summary(run.scan_ms)} |"
    )
    print()
    print(
        f"{run.scans} scans, {run.overruns} overruns; the device link: {link.reads} reads"
        f" ({link.read_errors} failed),"
        f" {link.writes} writes ({link.write_errors} failed)."
    )
    print()
    with tempfile.TemporaryDirectory() as folder:
        import subprocess

        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "hpdsl",
                "run",
                str(REPO / "rules"),
                "--plant",
                "sim",
                "--speed",
                "max",
                "--duration",
                "1d",
                "-q",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
    print(
        "## A day on the built-in plant: `hpdsl run rules/ --plant sim --speed max --duration 1d`:"
        f" {wall:.1f} s"
    )
    print()
    print("```")
    print(result.stdout.strip())
    print("```")


if __name__ == "__main__":
    main()
