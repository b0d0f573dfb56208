"""Field devices on loopback for the tests of `hpdsl run`: a real Modbus TCP server (pymodbus).

`ModbusDevice` serves four tables (coils, discrete inputs, input and holding registers) on
127.0.0.1 at a free port. The test sets what its sensors read and reads what the controller
wrote, through the server's own datastore, and injects faults: a device that answers late
(`delay_s`), one that answers with an exception code (`failing`), and one that is down
(`stop`, then `start` again on the same port).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from hpdsl.live import modbus
from hpdsl.live.points import Mapping, Register

LOOPBACK = "127.0.0.1"
# Function codes of the server's datastore, by table: read for the test, written by the test.
_CODES = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class ModbusDevice:
    """One Modbus TCP device on loopback, with registers the test controls."""

    def __init__(self, port: int | None = None, unit_id: int = 1) -> None:
        self.port = port or free_port()
        self.unit_id = unit_id
        self.delay_s = 0.0
        self.failing = False
        self.requests = 0
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._values: dict[tuple[str, int], Any] = {}  # kept across a restart

    async def _action(self, *_: Any) -> ExcCodes | None:
        self.requests += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return ExcCodes.DEVICE_FAILURE if self.failing else None

    async def start(self) -> None:
        def bits() -> list[SimData]:
            return [SimData(0, count=64, values=False, datatype=DataType.BITS)]

        def registers() -> list[SimData]:
            return [SimData(0, count=512, values=0, datatype=DataType.REGISTERS)]

        device = SimDevice(
            self.unit_id,
            simdata=(bits(), bits(), registers(), registers()),
            use_bit_addressing=True,
            action=self._action,
        )
        self._server = ModbusTcpServer(device, address=(LOOPBACK, self.port))
        self._task = asyncio.create_task(self._server.serve_forever())
        for _ in range(100):  # until it listens
            await asyncio.sleep(0.01)
            if self._server.transport is not None:
                break
        for (table, address), value in self._values.items():
            await self._set(table, address, value)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._server = None

    async def _set(self, table: str, address: int, values: list[Any]) -> None:
        # The datastore is the server's; `action` counts test writes as requests, so undo that.
        requests = self.requests
        await self._server.context.async_setValues(self.unit_id, _CODES[table], address, values)
        self.requests = requests

    async def set_words(self, table: str, address: int, values: list[int] | list[bool]) -> None:
        self._values[(table, address)] = list(values)
        await self._set(table, address, list(values))

    async def get(self, table: str, address: int, count: int = 1) -> list[Any]:
        delay, failing, requests = self.delay_s, self.failing, self.requests
        self.delay_s, self.failing = 0.0, False
        try:
            values = await self._server.context.async_getValues(self.unit_id, _CODES[table], address, count)
        finally:
            self.delay_s, self.failing, self.requests = delay, failing, requests
        return list(values)

    async def set_input(self, mapping: Mapping, value: float | bool) -> None:
        """What a sensor reads, in the rules' unit, encoded as the points file says the device holds it."""
        register = mapping.where
        assert isinstance(register, Register)
        if register.table in ("coil", "discrete"):
            await self.set_words(register.table, register.address, [bool(value)])
            return
        words = modbus.encode(mapping.to_field(float(value)), register)
        assert words is not None, (mapping.column, value)
        await self.set_words(register.table, register.address, words)

    async def output(self, mapping: Mapping) -> float:
        """What the controller last wrote to an output, as the raw number of the field point."""
        register = mapping.where
        assert isinstance(register, Register)
        if register.table == "coil":
            return 1.0 if (await self.get("coil", register.address))[0] else 0.0
        words = await self.get(register.table, register.address, register.width)
        return modbus.decode(words, register)
