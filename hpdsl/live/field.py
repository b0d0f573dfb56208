"""What every field connection shares: the latest reading of each input, and the faults it implies.

A link to a device (Modbus TCP, BACnet/IP) runs beside the scan loop: it polls its inputs once a
cycle and stores each reading with the time it arrived; it writes outputs as the scan hands them
over. The scan never waits for the network. Before each scan the controller asks the readings
for their values, and a reading that is missing, failed or older than `stale_after` is given to
the rules as no value (None): the generated program then uses the input's fallback (or its last
good value) and raises the input's sensor-fault alarm, exactly as for a failed sensor.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hpdsl.live.points import Device, Mapping
from hpdsl.sim.loaded import LoadedPackage

FieldValue = bool | int | float | enum.Enum | None


@dataclass
class Reading:
    """The last value of one input, and when it was taken (monotonic seconds)."""

    value: FieldValue = None
    at: float = -math.inf


@dataclass
class LinkStatus:
    """What a device link has seen, for the status line, the log and the tests."""

    device: str
    connected: bool = False
    reads: int = 0
    read_errors: int = 0
    writes: int = 0
    write_errors: int = 0


class Field(Protocol):
    """Where the controller's inputs come from and its outputs go."""

    async def start(self) -> None: ...

    def feed(self, package: Any, now: float) -> None:
        """Set the package's inputs to the field's values at monotonic time `now` (None: a fault)."""

    def deliver(self, package: Any) -> None:
        """Hand the outputs the last scan produced to the field."""

    async def stop(self) -> int:
        """Write every output's safe state, then close the connections; how many were written."""

    def statuses(self) -> list[LinkStatus]: ...


class Readings:
    """The latest reading of every mapped input, and the function that feeds them to a package."""

    def __init__(self, loaded: LoadedPackage, inputs: list[Mapping], stale_after_s: float) -> None:
        self.stale_after_s = stale_after_s
        self.readings = {mapping.column: Reading() for mapping in inputs}
        self._setters: list[tuple[Reading, Callable[[Any, Any], None]]] = []
        for mapping in inputs:
            point = mapping.point
            self._setters.append((self.readings[mapping.column], setter(point.instance, point.attribute)))

    def put(self, column: str, value: FieldValue, now: float | None = None) -> None:
        reading = self.readings[column]
        reading.value = value
        reading.at = time.monotonic() if now is None else now

    def fail(self, column: str) -> None:
        """A read of this input failed: no value until a good one arrives."""
        reading = self.readings[column]
        reading.value = None
        reading.at = time.monotonic()

    def feed(self, package: Any, now: float) -> None:
        oldest = now - self.stale_after_s
        for reading, set_value in self._setters:
            set_value(package, reading.value if reading.at >= oldest else None)


def setter(instance: str, attribute: str) -> Callable[[Any, Any], None]:
    """A function setting one value of a package: `package.<instance>.<attribute> = value`."""

    def set_value(package: Any, value: Any) -> None:
        setattr(getattr(package, instance), attribute, value)

    return set_value


def getter(instance: str, attribute: str) -> Callable[[Any], object]:
    """A function reading one value of a package: `package.<instance>.<attribute>`."""

    def get_value(package: Any) -> object:
        return getattr(getattr(package, instance), attribute)

    return get_value


def member_index(value: object, members: tuple[str, ...]) -> int | None:
    """An enumeration value's position among its members (0-based), or None."""
    name = getattr(value, "name", value)
    return members.index(name) if isinstance(name, str) and name in members else None


def input_value(mapping: Mapping, loaded: LoadedPackage, number: float | bool) -> FieldValue:
    """A field reading as the rules' input takes it; an enumeration from its 0-based state number."""
    point = mapping.point
    if point.kind == "bool":
        return bool(number)
    if point.kind == "enum":
        index = int(number) if isinstance(number, int | float) and float(number).is_integer() else -1
        if 0 <= index < len(point.members):
            return loaded.enum_member(point, point.members[index])
        return None  # not a state of the enumeration: a fault
    value = mapping.to_rules(float(number))
    if point.kind == "int":
        return round(value) if math.isfinite(value) else None
    return value


def output_number(mapping: Mapping, value: object) -> float | None:
    """An output of the rules as the number the field point takes (0-based state for a member)."""
    point = mapping.point
    if point.kind == "bool" or isinstance(value, bool):
        return 1.0 if value else 0.0
    if point.kind == "enum":
        index = member_index(value, point.members)
        return None if index is None else float(index)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return mapping.to_field(float(value))


def safe_number(mapping: Mapping) -> float | None:
    """The number an output's safe state is written as, or None when it has none."""
    if mapping.safe is None:
        return None
    return output_number(mapping, mapping.safe)


class Link(Protocol):
    """The devices of one protocol, as a part of the field."""

    async def start(self) -> None: ...

    def deliver(self, package: Any) -> None: ...

    async def stop(self) -> int: ...

    def statuses(self) -> list[LinkStatus]: ...


class NetworkField:
    """Field devices on the network: inputs from the shared readings, outputs through each link."""

    def __init__(self, readings: Readings, links: list[Link]) -> None:
        self.readings = readings
        self.links = links

    async def start(self) -> None:
        for link in self.links:
            await link.start()

    def feed(self, package: Any, now: float) -> None:
        self.readings.feed(package, now)

    def deliver(self, package: Any) -> None:
        for link in self.links:
            link.deliver(package)

    async def stop(self) -> int:
        written = 0
        for link in self.links:
            written += await link.stop()
        return written

    def statuses(self) -> list[LinkStatus]:
        return [status for link in self.links for status in link.statuses()]


REFRESH_S = 60.0  # every output is written again this often, whether it changed or not

Log = Callable[[str, dict[str, object]], None]


class LinkError(Exception):
    """A request to a device failed; `drop` when the connection itself is in doubt."""

    def __init__(self, problem: str, drop: bool = False) -> None:
        super().__init__(problem)
        self.drop = drop


class DeviceLink:
    """One device of the field, whatever its protocol: its faults and the outputs it is owed.

    A protocol's link reads the device's inputs in `poll` and writes one output in `write_one`;
    this class keeps the queue of outputs to write (those that changed, all of them every
    `REFRESH_S` and whenever the device comes back), the fault and recovery records, and the
    safe states at the end.
    """

    def __init__(
        self,
        device: Device,
        inputs: list[Mapping],
        outputs: list[Mapping],
        readings: Readings,
        loaded: LoadedPackage,
        log: Log,
    ) -> None:
        self.device = device
        self.inputs = inputs
        self.outputs = outputs
        self.readings = readings
        self.loaded = loaded
        self.log = log
        self.status = LinkStatus(device.name)
        self._by_column = {mapping.column: mapping for mapping in outputs}
        self._written: dict[str, float] = {}
        self._pending: dict[str, float] = {}
        self._last_refresh = -math.inf
        self._failing = False

    async def poll(self) -> None:
        """Read every input once; a failed read marks its inputs faulted."""
        raise NotImplementedError

    async def write_one(self, mapping: Mapping, number: float) -> None:
        """Write one output's field number; LinkError when it could not be written."""
        raise NotImplementedError

    def drop(self) -> None:
        """Close the connection, so that the next cycle opens a new one (where there is one)."""

    def close(self) -> None:
        """Release the connection for good."""

    def fault(self, what: str) -> None:
        """The device failed: recorded once, until it answers again."""
        self.status.connected = False
        if not self._failing:
            self._failing = True
            self.log("comm_fault", {"device": self.device.name, "problem": what})

    def recovered(self) -> None:
        if not self.status.connected:
            self._written.clear()  # a device that comes back gets every output again
        self.status.connected = True
        if self._failing:
            self._failing = False
            self.log("comm_restored", {"device": self.device.name})

    def hand_over(self, numbers: dict[str, float]) -> None:
        """The outputs of the last scan; those not written as they are now are queued."""
        now = time.monotonic()
        refresh = now - self._last_refresh >= REFRESH_S
        if refresh:
            self._last_refresh = now
        for column, number in numbers.items():
            if refresh or self._written.get(column) != number:
                self._pending[column] = number

    async def flush(self) -> None:
        """Write what is queued; what fails stays queued for the next cycle."""
        for column, number in list(self._pending.items()):
            try:
                await self.write_one(self._by_column[column], number)
            except LinkError as error:
                self.status.write_errors += 1
                self.fault(f"write {column}: {error}")
                if error.drop:
                    self.drop()
                return
            self.status.writes += 1
            self._written[column] = number
            del self._pending[column]

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


class PolledLinks:
    """The devices of one protocol, each polled once a cycle by a task of its own beside the scan."""

    def __init__(self, links: list[DeviceLink], cycle_s: float) -> None:
        self.links = links
        self.cycle_s = cycle_s
        self._getters = {
            m.column: getter(m.point.instance, m.point.attribute) for link in links for m in link.outputs
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    async def start(self) -> None:
        self._running = True
        self._tasks = [asyncio.create_task(self._run(link)) for link in self.links]

    async def _run(self, link: DeviceLink) -> None:
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
        """Stop polling, write every output's safe state, close; how many outputs were written."""
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
