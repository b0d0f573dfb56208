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


# --- BACnet/IP ----------------------------------------------------------------------------------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class BacnetDevice:
    """A BACnet/IP device on loopback (bacpypes3): objects the test sets and reads, and faults.

    `objects` maps an object (`"analog-value,1"`) to its initial present value: a number for an
    analog object, a bool for a binary one, a state number (from 1) for a multi-state one.
    `delay_s` makes every read answer late; `stop` takes the device off the network.
    """

    def __init__(self, objects: dict[str, float | bool | int], device_id: int = 1001) -> None:
        self.port = free_udp_port()
        self.device_id = device_id
        self.spec = objects
        self.delay_s = 0.0
        self.app: Any = None
        self.objects: dict[str, Any] = {}

    def start(self) -> None:
        from bacpypes3.app import Application
        from bacpypes3.local.analog import AnalogInputObject, AnalogOutputObject, AnalogValueObject
        from bacpypes3.local.binary import BinaryInputObject, BinaryOutputObject, BinaryValueObject
        from bacpypes3.local.device import DeviceObject
        from bacpypes3.local.multistate import MultiStateValueObject
        from bacpypes3.local.networkport import NetworkPortObject

        owner = self

        def slow(base: type) -> type:
            class Slow(base):  # type: ignore[misc, valid-type]
                async def read_property(self, attr: Any, index: Any = None) -> Any:
                    if owner.delay_s:
                        await asyncio.sleep(owner.delay_s)
                    return await super().read_property(attr, index)

            return Slow

        classes = {
            "analog-input": slow(AnalogInputObject),
            "analog-output": slow(AnalogOutputObject),
            "analog-value": slow(AnalogValueObject),
            "binary-input": slow(BinaryInputObject),
            "binary-output": slow(BinaryOutputObject),
            "binary-value": slow(BinaryValueObject),
            "multi-state-value": slow(MultiStateValueObject),
        }
        made: list[Any] = []
        for key, value in self.spec.items():
            kind, instance = key.split(",")
            previous = self.objects.get(key)
            present = previous.presentValue if previous is not None else _present(kind, value)
            extra: dict[str, Any] = {}
            if kind == "multi-state-value":
                extra["numberOfStates"] = 4
            obj = classes[kind](
                objectIdentifier=(kind, int(instance)),
                objectName=f"{kind} {instance}",
                presentValue=present,
                **extra,
            )
            self.objects[key] = obj
            made.append(obj)
        device = DeviceObject(
            objectIdentifier=("device", self.device_id), objectName="plant", vendorIdentifier=999
        )
        port = NetworkPortObject(
            f"{LOOPBACK}:{self.port}", objectIdentifier=("network-port", 1), objectName="NetworkPort-1"
        )
        self.app = Application.from_object_list([device, port, *made])

    def stop(self) -> None:
        if self.app is not None:
            self.app.close()
            self.app = None

    def set(self, key: str, value: float | bool | int) -> None:
        self.objects[key].presentValue = _present(key.split(",")[0], value)

    def get(self, key: str) -> float:
        value = self.objects[key].presentValue
        kind = key.split(",")[0]
        if kind.startswith("binary"):
            return 1.0 if int(value) == 1 else 0.0
        return float(value)


def _present(kind: str, value: float | bool | int) -> Any:
    from bacpypes3.basetypes import BinaryPV
    from bacpypes3.primitivedata import Real, Unsigned

    if kind.startswith("binary"):
        return BinaryPV("active" if value else "inactive")
    if kind.startswith("multi-state"):
        return Unsigned(int(value))
    return Real(float(value))
