"""Modbus TCP devices as the controller's field (client, with pymodbus).

One link per device runs beside the scan loop. Once a cycle it reads the device's inputs in as
few requests as the registers allow (neighbours within a few addresses share a request, at most
125 registers or 2000 bits each), decodes them (int16, uint16, int32, uint32, float32 in either
word order; coils and discrete inputs as bits), scales and converts them to the rules' units,
and stores them in the shared `Readings`. A request that fails, times out or answers with an
exception code marks its inputs as faulted at once; a device that does not answer is connected
again on the next cycle. Outputs are written when their value changes, all of them again every
`REFRESH_S` seconds (a device that restarted gets them back), and their safe states when the
controller stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hpdsl.live.field import LinkStatus, Readings, getter, input_value, output_number, safe_number
from hpdsl.live.points import Device, Mapping, PointsFile, Register
from hpdsl.sim.loaded import LoadedPackage

# pymodbus logs every failed connect on its own; the controller logs faults once, in its event log.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

MAX_REGISTERS = 125  # per read request (Modbus limit)
MAX_BITS = 2000
GAP = 8  # registers between two inputs that still share one request
REFRESH_S = 60.0


class DeviceError(RuntimeError):
    """The device answered, with a Modbus exception code: the connection itself is sound."""


@dataclass(frozen=True)
class _Block:
    """One read request: a table, a first address, a count, and the inputs it carries."""

    table: str
    address: int
    count: int
    mappings: tuple[Mapping, ...]


def blocks(mappings: list[Mapping]) -> list[_Block]:
    """The read requests that cover these inputs, fewest first by table and address."""
    found: list[_Block] = []
    by_table: dict[str, list[Mapping]] = {}
    for mapping in mappings:
        assert isinstance(mapping.where, Register)
        by_table.setdefault(mapping.where.table, []).append(mapping)
    for table, members in by_table.items():
        limit = MAX_BITS if table in ("coil", "discrete") else MAX_REGISTERS
        members.sort(key=lambda m: _register(m).address)
        current: list[Mapping] = []
        first = end = 0
        for mapping in members:
            register = _register(mapping)
            if current and (
                register.address - end > GAP or register.address + register.width - first > limit
            ):
                found.append(_Block(table, first, end - first, tuple(current)))
                current = []
            if not current:
                first = register.address
                end = register.address
            current.append(mapping)
            end = max(end, register.address + register.width)
        if current:
            found.append(_Block(table, first, end - first, tuple(current)))
    return found


def _register(mapping: Mapping) -> Register:
    assert isinstance(mapping.where, Register)
    return mapping.where


def decode(words: list[int], register: Register) -> float:
    """The number held by one or two 16-bit words."""
    if register.type in ("int16", "uint16"):
        word = words[0] & 0xFFFF
        return float(word - 0x10000 if register.type == "int16" and word >= 0x8000 else word)
    high, low = (words[0], words[1]) if register.word_order == "big" else (words[1], words[0])
    data = struct.pack(">HH", high & 0xFFFF, low & 0xFFFF)
    code = {"int32": ">i", "uint32": ">I", "float32": ">f"}[register.type]
    value: float = struct.unpack(code, data)[0]
    return float(value)


def encode(number: float, register: Register) -> list[int] | None:
    """The words that hold a number, or None when it does not fit the register's type."""
    if not math.isfinite(number):
        return None
    if register.type == "float32":
        data = struct.pack(">f", number)
    else:
        whole = round(number)
        low, high = {"int16": (-32768, 32767), "uint16": (0, 65535), "int32": (-(2**31), 2**31 - 1)}.get(
            register.type, (0, 2**32 - 1)
        )
        if not low <= whole <= high:
            return None
        if register.width == 1:
            return [whole & 0xFFFF]
        data = struct.pack(">i" if register.type == "int32" else ">I", whole)
    high_word, low_word = struct.unpack(">HH", data)
    return [high_word, low_word] if register.word_order == "big" else [low_word, high_word]


class ModbusLink:
    """One Modbus TCP device: its reads, its writes and its connection."""

    def __init__(
        self,
        device: Device,
        inputs: list[Mapping],
        outputs: list[Mapping],
        readings: Readings,
        loaded: LoadedPackage,
        cycle_s: float,
        log: Callable[[str, dict[str, object]], None],
    ) -> None:
        self.device = device
        self.inputs = inputs
        self.outputs = outputs
        self.readings = readings
        self.loaded = loaded
        self.cycle_s = cycle_s
        self.log = log
        self.status = LinkStatus(device.name)
        self.blocks = blocks(inputs)
        self._client: Any = None
        self._written: dict[str, float] = {}
        self._pending: dict[str, float] = {}
        self._last_refresh = -math.inf
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    # ------------------------------------------------------------------ connection
    async def _connected(self) -> bool:
        from pymodbus.client import AsyncModbusTcpClient

        if self._client is not None and self._client.connected:
            return True
        if self._client is not None:
            self._drop()
        if self._client is None:
            self._client = AsyncModbusTcpClient(
                self.device.host,
                port=self.device.port,
                timeout=self.device.timeout_s,
                retries=0,
                reconnect_delay=0,
            )
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.device.timeout_s)
        except (TimeoutError, OSError) as exc:
            ok = False
            self.status.last_error = f"connect: {exc or type(exc).__name__}"
        if not ok:
            self._fault(f"no connection to {self.device.host}:{self.device.port}")
            return False
        if not self.status.connected:
            self.status.connected = True
            self._written.clear()  # a device that comes back gets every output again
        return True

    def _fault(self, what: str) -> None:
        self.status.last_error = what
        if not self._failing:
            self._failing = True
            self.status.faults.append((time.monotonic(), what))
            self.log("comm_fault", {"device": self.device.name, "problem": what})

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            self.log("comm_restored", {"device": self.device.name})

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One request with the device's timeout; raises on a timeout, a lost link or an exception code."""
        call = getattr(self._client, method)(*args, device_id=self.device.unit_id, **kwargs)
        response = await asyncio.wait_for(call, self.device.timeout_s)
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise DeviceError(f"{method} answered with exception code {code}")
        return response

    def _drop(self) -> None:
        """Close the connection; the next cycle opens a new one."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self.status.connected = False

    # ------------------------------------------------------------------ reading
    async def poll(self) -> None:
        """Read every input once; a failed request marks its inputs faulted."""
        if not await self._connected():
            for mapping in self.inputs:
                self.readings.fail(mapping.column)
            return
        all_ok = True
        for block in self.blocks:
            try:
                values = await self._read(block)
            except (TimeoutError, OSError, RuntimeError, ValueError, AttributeError) as exc:
                all_ok = False
                self.status.read_errors += 1
                self._fault(f"read {block.table} {block.address}: {exc or type(exc).__name__}")
                for mapping in block.mappings:
                    self.readings.fail(mapping.column)
                if not isinstance(exc, DeviceError):
                    # No answer, or one that cannot be trusted: a late reply could be taken for the
                    # next request's. The next cycle starts on a fresh connection.
                    self._drop()
                    for mapping in self.inputs:
                        self.readings.fail(mapping.column)
                    return
                continue
            self.status.reads += 1
            now = time.monotonic()
            for mapping in block.mappings:
                register = _register(mapping)
                offset = register.address - block.address
                if block.table in ("coil", "discrete"):
                    number: float | bool = bool(values[offset])
                else:
                    number = decode(values[offset : offset + register.width], register)
                self.readings.put(mapping.column, input_value(mapping, self.loaded, number), now)
        if all_ok:
            self._recovered()

    async def _read(self, block: _Block) -> list[Any]:
        method = {
            "coil": "read_coils",
            "discrete": "read_discrete_inputs",
            "input": "read_input_registers",
            "holding": "read_holding_registers",
        }[block.table]
        response = await self._call(method, block.address, count=block.count)
        values = list(response.bits if block.table in ("coil", "discrete") else response.registers)
        if len(values) < block.count:
            raise ValueError(f"{len(values)} values where {block.count} were asked for")
        return values

    # ------------------------------------------------------------------ writing
    def hand_over(self, numbers: dict[str, float]) -> None:
        """The outputs of the last scan; those that changed since written are queued."""
        now = time.monotonic()
        refresh = now - self._last_refresh >= REFRESH_S
        if refresh:
            self._last_refresh = now
        for column, number in numbers.items():
            if refresh or self._written.get(column) != number:
                self._pending[column] = number

    async def flush(self) -> None:
        """Write what is queued; what fails stays queued for the next cycle."""
        if not self._pending or not await self._connected():
            return
        by_column = {mapping.column: mapping for mapping in self.outputs}
        for column, number in list(self._pending.items()):
            mapping = by_column[column]
            try:
                await self._write(mapping, number)
            except (TimeoutError, OSError, RuntimeError, ValueError, AttributeError) as exc:
                self.status.write_errors += 1
                self._fault(f"write {column}: {exc or type(exc).__name__}")
                if not isinstance(exc, DeviceError | ValueError):
                    self._drop()
                return
            self.status.writes += 1
            self._written[column] = number
            del self._pending[column]

    async def _write(self, mapping: Mapping, number: float) -> None:
        register = _register(mapping)
        if register.table == "coil":
            await self._call("write_coil", register.address, number != 0.0)
            return
        words = encode(number, register)
        if words is None:
            raise ValueError(f"{number:g} does not fit a {register.type} register")
        if len(words) == 1:
            await self._call("write_register", register.address, words[0])
        else:
            await self._call("write_registers", register.address, words)

    async def write_safe_states(self) -> int:
        """Write every output's safe state now; how many were written."""
        self._pending.clear()
        for mapping in self.outputs:
            number = safe_number(mapping)
            if number is not None:
                self._pending[mapping.column] = number
        wanted = len(self._pending)
        await self.flush()
        return wanted - len(self._pending)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class ModbusField:
    """Every Modbus device of a points file, behind the controller's `Field` interface."""

    def __init__(
        self,
        loaded: LoadedPackage,
        points: PointsFile,
        readings: Readings,
        log: Callable[[str, dict[str, object]], None],
    ) -> None:
        self.links: list[ModbusLink] = []
        for device in points.devices.values():
            if device.protocol != "modbus":
                continue
            inputs = [m for m in points.inputs if m.device.name == device.name]
            outputs = [m for m in points.outputs if m.device.name == device.name]
            if inputs or outputs:
                self.links.append(ModbusLink(device, inputs, outputs, readings, loaded, points.cycle_s, log))
        self._getters = {
            m.column: getter(m.point.instance, m.point.attribute) for link in self.links for m in link.outputs
        }
        self.cycle_s = points.cycle_s
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    async def start(self) -> None:
        self._running = True
        self._tasks = [asyncio.create_task(self._run(link)) for link in self.links]

    async def _run(self, link: ModbusLink) -> None:
        next_at = time.monotonic()
        while self._running:
            await link.poll()
            await link.flush()
            next_at += self.cycle_s
            delay = next_at - time.monotonic()
            if delay < 0:  # the device is slower than a cycle: poll again at once, do not pile up
                next_at = time.monotonic()
                delay = 0
            await asyncio.sleep(delay)

    def deliver(self, package: Any) -> None:
        for link in self.links:
            numbers: dict[str, float] = {}
            for mapping in link.outputs:
                number = output_number(mapping, self._getters[mapping.column](package))
                if number is not None:
                    numbers[mapping.column] = number
            link.hand_over(numbers)

    async def stop(self) -> int:
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # a link's own failures are already in the log
        written = 0
        for link in self.links:
            try:
                written += await link.write_safe_states()
            finally:
                link.close()
        return written

    def statuses(self) -> list[LinkStatus]:
        return [link.status for link in self.links]
