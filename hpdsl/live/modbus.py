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
import functools
import logging
import math
import struct
import time
from dataclasses import dataclass
from typing import Any

from hpdsl.live.field import DeviceLink, LinkError, Log, PolledLinks, Readings, input_value
from hpdsl.live.points import Mapping, PointsFile, Register
from hpdsl.sim.loaded import LoadedPackage

# pymodbus logs every failed connect on its own; the controller logs faults once, in its event log.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

MAX_REGISTERS = 125  # per read request (Modbus limit)
MAX_BITS = 2000
GAP = 8  # registers between two inputs that still share one request


@dataclass(frozen=True)
class _Block:
    """One read request: a table, a first address, a count, and the inputs it carries."""

    table: str
    address: int
    count: int
    mappings: tuple[Mapping, ...]


def read_requests(mappings: list[Mapping]) -> list[_Block]:
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


class ModbusLink(DeviceLink):
    """One Modbus TCP device: its reads, its writes and its connection."""

    _client: Any = None  # the pymodbus client while connected

    @functools.cached_property
    def blocks(self) -> list[_Block]:
        """The read requests that cover this device's inputs."""
        return read_requests(self.inputs)

    # ------------------------------------------------------------------ connection
    async def _connected(self) -> bool:
        from pymodbus.client import AsyncModbusTcpClient

        if self._client is not None and self._client.connected:
            return True
        self.drop()
        self._client = AsyncModbusTcpClient(
            self.device.host,
            port=self.device.port,
            timeout=self.device.timeout_s,
            retries=0,
            reconnect_delay=0,
        )
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.device.timeout_s)
        except (TimeoutError, OSError):
            ok = False
        if not ok:
            self.fault(f"no connection to {self.device.host}:{self.device.port}")
            return False
        return True

    def drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self.status.connected = False

    close = drop

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One request with the device's timeout; LinkError on a timeout, a lost link or an exception code.

        Only an exception code leaves the connection as it is: after no answer, or a broken one,
        a late reply could be taken for the next request's, so the next cycle starts afresh.
        """
        try:
            call = getattr(self._client, method)(*args, device_id=self.device.unit_id, **kwargs)
            response = await asyncio.wait_for(call, self.device.timeout_s)
        except (TimeoutError, OSError, AttributeError, ValueError) as exc:
            raise LinkError(f"{method}: {exc or type(exc).__name__}", drop=True) from None
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise LinkError(f"{method} answered with exception code {code}")
        return response

    # ------------------------------------------------------------------ reading
    async def poll(self) -> None:
        if not await self._connected():
            for mapping in self.inputs:
                self.readings.fail(mapping.column)
            return
        all_ok = True
        for block in self.blocks:
            try:
                values = await self._read(block)
            except LinkError as error:
                all_ok = False
                self.status.read_errors += 1
                self.fault(f"read {block.table} {block.address}: {error}")
                failed = self.inputs if error.drop else block.mappings
                for mapping in failed:
                    self.readings.fail(mapping.column)
                if error.drop:
                    self.drop()
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
            self.recovered()

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
            raise LinkError(f"{len(values)} values where {block.count} were asked for", drop=True)
        return values

    # ------------------------------------------------------------------ writing
    async def write_one(self, mapping: Mapping, number: float) -> None:
        if not await self._connected():
            raise LinkError("no connection")
        register = _register(mapping)
        if register.table == "coil":
            await self._call("write_coil", register.address, number != 0.0)
            return
        words = encode(number, register)
        if words is None:
            raise LinkError(f"{number:g} does not fit a {register.type} register")
        if len(words) == 1:
            await self._call("write_register", register.address, words[0])
        else:
            await self._call("write_registers", register.address, words)


class ModbusField(PolledLinks):
    """Every Modbus device of a points file, polled beside the scan."""

    def __init__(self, loaded: LoadedPackage, points: PointsFile, readings: Readings, log: Log) -> None:
        links: list[DeviceLink] = []
        for device in points.devices.values():
            if device.protocol != "modbus":
                continue
            inputs = [m for m in points.inputs if m.device.name == device.name]
            outputs = [m for m in points.outputs if m.device.name == device.name]
            if inputs or outputs:
                links.append(ModbusLink(device, inputs, outputs, readings, loaded, log))
        super().__init__(links, points.cycle_s)
