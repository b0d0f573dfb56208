"""BACnet/IP for `hpdsl run` (bacpypes3): the controller's own device, and BACnet devices as its field.

**The controller's device** (`[server]` in the points file) publishes the package as objects:

- an output: analog-value (a number), binary-value (on/off) or multi-state-value (a member);
- a state machine's state: multi-state-value, its states named;
- an alarm: binary-value, active while raised, its severity in the description and, while active,
  the in-alarm status flag;
- a parameter: analog-value, binary-value or multi-state-value with its range (min and max
  present value): the only objects writable from the network;
- a total or counter: analog-value;
- the event log: character-string-value `event_log` (the newest record, JSON) and analog-value
  `event_log_records` (how many since the start).

Every object carries the unit (engineering units) and the description the rules give. A write of
a parameter outside its declared range, or of a read-only object, is refused with a BACnet error
(value-out-of-range, write-access-denied) and not applied; a write in range takes effect at the
next scan, where the program checks it as on a PLC (a value that breaks a `require` is undone
and raises `parameter_fault`).

**BACnet devices as the field**: the controller reads each input's property (present-value by
default) once a cycle, each read bounded by the device's timeout, and writes each output's
present value at the device's priority when it changes. An error, a reject or a timeout is a
fault of that input, as for a failed sensor. A BACnet client is itself a device, so the points
file's `[server]` is the identity the controller reads and writes with.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
from collections.abc import Callable
from typing import Any

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.app import Application
from bacpypes3.basetypes import BinaryPV, EngineeringUnits, StatusFlags
from bacpypes3.errors import ExecutionError
from bacpypes3.local.analog import AnalogValueObject
from bacpypes3.local.binary import BinaryValueObject
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.multistate import MultiStateValueObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.object import CharacterStringValueObject as _CharacterStringValueObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import CharacterString, ObjectIdentifier, Real, Unsigned

from hpdsl.live.field import (
    DeviceLink,
    LinkError,
    Log,
    PolledLinks,
    Readings,
    getter,
    input_value,
    member_index,
    setter,
)
from hpdsl.live.points import BacnetObject, Device, Mapping, PointsFile, Server
from hpdsl.sim.loaded import LoadedPackage
from hpdsl.tools.doc.bacnet import ENGINEERING_UNITS, NO_UNITS

VENDOR_ID = 999  # BACnet's identifier for a device of no registered vendor
PRIORITY = 10  # the priority the controller commands outputs at (8 is manual operator)
DESCRIPTION_LIMIT = 200


def engineering_units(unit: str) -> EngineeringUnits:
    """The rules' unit as BACnet engineering units, as `hpdsl doc` lists them (no-units where none)."""
    _, number = ENGINEERING_UNITS.get(unit, NO_UNITS)
    return EngineeringUnits(number)


class CharacterStringValueObject(LocalObject, _CharacterStringValueObject):  # type: ignore[misc]
    """A local character-string value (bacpypes3 ships the type, not a local object of it)."""


def _refuse(code: str) -> None:
    raise ExecutionError(errorClass="property", errorCode=code)


class _ReadOnly:
    """A published value: the network reads it; its present value is the controller's alone."""

    async def write_property(  # type: ignore[no-untyped-def]
        self, attr, value, index=None, priority=None
    ) -> None:
        _refuse("writeAccessDenied")


class ReadOnlyAnalog(_ReadOnly, AnalogValueObject):  # type: ignore[misc]
    pass


class ReadOnlyBinary(_ReadOnly, BinaryValueObject):  # type: ignore[misc]
    pass


class ReadOnlyMultiState(_ReadOnly, MultiStateValueObject):  # type: ignore[misc]
    pass


class ReadOnlyText(_ReadOnly, CharacterStringValueObject):
    pass


class _Parameter:
    """A parameter of the rules: writable from the network within its declared range."""

    _accept: Callable[[Any], bool | int | float | str | None]  # the value in the rules' terms, or None
    _apply: Callable[[Any], None]

    async def write_property(  # type: ignore[no-untyped-def]
        self, attr, value, index=None, priority=None
    ) -> None:
        if str(attr) not in ("presentValue", "present-value", "85"):
            _refuse("writeAccessDenied")
        try:
            accepted = self._accept(value)
        except (TypeError, ValueError):  # a value of another type than the object's
            accepted = None
        if accepted is None:
            _refuse("valueOutOfRange")
        self._apply(accepted)
        await super().write_property(attr, value, index, priority)  # type: ignore[misc]


class ParameterAnalog(_Parameter, AnalogValueObject):  # type: ignore[misc]
    pass


class ParameterBinary(_Parameter, BinaryValueObject):  # type: ignore[misc]
    pass


class ParameterMultiState(_Parameter, MultiStateValueObject):  # type: ignore[misc]
    pass


def _text(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


class ControllerDevice:
    """The controller's own BACnet device: every point of the package as an object."""

    def __init__(self, server: Server, loaded: LoadedPackage, package: Any) -> None:
        self.server = server
        self.loaded = loaded
        self.package = package
        self.application: Any = None
        # (object, how to read its value from the package, how to turn that into a present value)
        self._published: list[tuple[Any, Callable[[Any], object], Callable[[object], Any]]] = []
        self._alarms: list[tuple[Any, Callable[[Any], object]]] = []
        self._next_instance: dict[str, int] = {}
        self._log_text: Any = None
        self._log_count: Any = None
        self._log_records = 0
        self.objects = self._objects()

    def _identifier(self, object_type: str) -> tuple[str, int]:
        instance = self._next_instance.get(object_type, 1)
        self._next_instance[object_type] = instance + 1
        return (object_type, instance)

    def _objects(self) -> list[Any]:
        objects: list[Any] = []
        module = self.loaded.module
        for cls in module.Package.PROGRAMS:
            for point in cls.POINTS:
                name = f"{cls.NAME}.{point.name}"
                read = getter(cls.INSTANCE, point.attribute)
                description = _text(point.doc or name)
                if point.kind == "parameter":
                    objects.append(self._parameter(name, point, cls.INSTANCE, description))
                    continue
                if point.kind not in ("output", "machine", "totalizer", "counter"):
                    continue
                objects.append(self._published_object(name, point, read, description))
            for alarm in cls.ALARMS:
                name = f"{cls.NAME}.{alarm.name}"
                obj = ReadOnlyBinary(
                    objectIdentifier=self._identifier("binary-value"),
                    objectName=f"alarm {name}",
                    description=_text(f"severity {alarm.severity}: {alarm.doc}"),
                    presentValue=BinaryPV("inactive"),
                    statusFlags=StatusFlags([0, 0, 0, 0]),
                )
                self._alarms.append((obj, getter(cls.INSTANCE, alarm.attribute)))
                objects.append(obj)
        self._log_text = ReadOnlyText(
            objectIdentifier=self._identifier("characterstring-value"),
            objectName="event_log",
            description="the newest record of the controller's event log (JSON)",
            presentValue=CharacterString(""),
        )
        self._log_count = ReadOnlyAnalog(
            objectIdentifier=self._identifier("analog-value"),
            objectName="event_log_records",
            description="records written to the event log since the controller started",
            presentValue=Real(0.0),
            units=engineering_units(""),
        )
        objects += [self._log_text, self._log_count]
        return objects

    def _published_object(
        self, name: str, point: Any, read: Callable[[Any], object], description: str
    ) -> Any:
        if point.type == "bool":
            obj = ReadOnlyBinary(
                objectIdentifier=self._identifier("binary-value"),
                objectName=name,
                description=description,
                presentValue=BinaryPV("inactive"),
            )
            self._published.append((obj, read, lambda v: BinaryPV("active" if v else "inactive")))
            return obj
        if point.type in ("int", "real"):
            obj = ReadOnlyAnalog(
                objectIdentifier=self._identifier("analog-value"),
                objectName=name,
                description=description,
                presentValue=Real(0.0),
                units=engineering_units(point.unit),
            )
            self._published.append((obj, read, _real))
            return obj
        members = tuple(member.name for member in getattr(self.loaded.module, point.type))
        obj = ReadOnlyMultiState(
            objectIdentifier=self._identifier("multi-state-value"),
            objectName=name,
            description=description,
            presentValue=Unsigned(1),
            numberOfStates=Unsigned(len(members)),
            stateText=[CharacterString(m) for m in members],
        )
        self._published.append((obj, read, lambda v: Unsigned((member_index(v, members) or 0) + 1)))
        return obj

    def _parameter(self, name: str, point: Any, instance: str, description: str) -> Any:
        current = getattr(getattr(self.package, instance), point.attribute)
        if point.type == "bool":
            obj = ParameterBinary(
                objectIdentifier=self._identifier("binary-value"),
                objectName=name,
                description=description,
                presentValue=BinaryPV("active" if current else "inactive"),
            )

            def accept_bool(value: Any) -> bool | None:
                return int(value) == 1 if int(value) in (0, 1) else None

            obj._accept = accept_bool
        elif point.type in ("int", "real"):
            low, high = point.low, point.high
            kwargs: dict[str, Any] = {}
            if low is not None:
                kwargs["minPresValue"] = Real(low)
            if high is not None:
                kwargs["maxPresValue"] = Real(high)
            obj = ParameterAnalog(
                objectIdentifier=self._identifier("analog-value"),
                objectName=name,
                description=description,
                presentValue=Real(float(current)),
                units=engineering_units(point.unit),
                **kwargs,
            )
            whole = point.type == "int"

            def accept_number(value: Any) -> float | int | None:
                number = float(value)
                if (
                    not math.isfinite(number)
                    or (low is not None and number < low)
                    or (high is not None and number > high)
                ):
                    return None
                if whole:
                    return round(number) if number.is_integer() else None
                return number

            obj._accept = accept_number
        else:
            enum_class = getattr(self.loaded.module, point.type)
            members = list(enum_class)
            obj = ParameterMultiState(
                objectIdentifier=self._identifier("multi-state-value"),
                objectName=name,
                description=description,
                presentValue=Unsigned((member_index(current, tuple(m.name for m in members)) or 0) + 1),
                numberOfStates=Unsigned(len(members)),
                stateText=[CharacterString(m.name) for m in members],
            )

            def accept_member(value: Any) -> Any:
                state = int(value)
                return members[state - 1] if 1 <= state <= len(members) else None

            obj._accept = accept_member
        obj._apply = functools.partial(setter(instance, point.attribute), self.package)
        return obj

    # ------------------------------------------------------------------ life
    def network_objects(self) -> list[Any]:
        """The device and network-port objects that put the controller on the network."""
        device = DeviceObject(
            objectIdentifier=("device", self.server.device_id),
            objectName=self.server.name,
            vendorIdentifier=VENDOR_ID,
            description="hpdsl controller",
        )
        port = NetworkPortObject(
            f"{self.server.host}:{self.server.port}",
            objectIdentifier=("network-port", 1),
            objectName="NetworkPort-1",
        )
        return [device, port]

    def start(self) -> Any:
        self.application = Application.from_object_list([*self.network_objects(), *self.objects])
        return self.application

    def close(self) -> None:
        if self.application is not None:
            self.application.close()
            self.application = None

    def update(self, package: Any) -> None:
        """Publish the values of the last scan (only those that changed)."""
        for obj, read, convert in self._published:
            value = convert(read(package))
            if obj.presentValue != value:
                obj.presentValue = value
        for obj, active in self._alarms:
            raised = bool(active(package))
            value = BinaryPV("active" if raised else "inactive")
            if obj.presentValue != value:
                obj.presentValue = value
                obj.statusFlags = StatusFlags([1 if raised else 0, 0, 0, 0])

    def logged(self, record: dict[str, object]) -> None:
        """The newest record of the event log, published."""
        self._log_records += 1
        self._log_text.presentValue = CharacterString(
            _text(json.dumps(record, default=str, separators=(",", ":")))
        )
        self._log_count.presentValue = Real(float(self._log_records))


def address_problem(server: Server) -> str | None:
    """Why the controller's device cannot listen at its address (taken, not this host's), or None.

    bacpypes3 would keep retrying in the background and leave the device invisible; this asks
    the operating system first.
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((server.host, server.port))
        except OSError as exc:
            return (
                f"cannot listen on {server.host}:{server.port} for the controller's BACnet device:"
                f" {exc.strerror or exc}"
            )
    return None


def _real(value: object) -> Real:
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    return Real(number if math.isfinite(number) else 0.0)


# --------------------------------------------------------------------- the field
class BacnetLink(DeviceLink):
    """One BACnet device of the field, read and written through the controller's application."""

    def __init__(
        self,
        device: Device,
        inputs: list[Mapping],
        outputs: list[Mapping],
        readings: Readings,
        loaded: LoadedPackage,
        application: Callable[[], Any],
        log: Log,
    ) -> None:
        super().__init__(device, inputs, outputs, readings, loaded, log)
        self.application = application
        self.address = Address(f"{device.host}:{device.port}")

    async def _request(self, call: Any, what: str) -> Any:
        try:
            return await asyncio.wait_for(call, self.device.timeout_s)
        except (TimeoutError, ErrorRejectAbortNack, ExecutionError, ValueError, TypeError, OSError) as exc:
            raise LinkError(f"{what}: {_describe(exc)}") from None

    async def _read(self, mapping: Mapping) -> None:
        where = mapping.where
        assert isinstance(where, BacnetObject)
        identifier = ObjectIdentifier(f"{where.object_type},{where.instance}")
        what = f"read {where.object_type},{where.instance}"
        try:
            value = await self._request(
                self.application().read_property(self.address, identifier, where.property), what
            )
            number = _number(value, where.object_type)
        except (LinkError, ValueError, TypeError) as error:
            self.status.read_errors += 1
            self.readings.fail(mapping.column)
            raise LinkError(str(error)) from None
        self.status.reads += 1
        if where.object_type.startswith("multi-state"):
            number -= 1  # BACnet numbers states from 1
        self.readings.put(mapping.column, input_value(mapping, self.loaded, number))

    async def poll(self) -> None:
        results = await asyncio.gather(*(self._read(m) for m in self.inputs), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:
            if not isinstance(failure, LinkError):
                raise failure
        if failures:
            self.fault(str(failures[0]))
        elif self.inputs:
            self.recovered()

    async def write_one(self, mapping: Mapping, number: float) -> None:
        where = mapping.where
        assert isinstance(where, BacnetObject)
        call = self.application().write_property(
            self.address,
            ObjectIdentifier(f"{where.object_type},{where.instance}"),
            where.property,
            _bacnet_value(number, where.object_type),
            priority=PRIORITY,
        )
        await self._request(call, "write")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    error_code = getattr(exc, "errorCode", None)
    return f"{text} ({error_code})" if error_code else text


def _number(value: Any, object_type: str) -> float:
    if object_type.startswith("binary"):
        return 1.0 if int(value) == 1 else 0.0
    number = float(value)
    if not object_type.startswith("analog") and not number.is_integer():
        raise ValueError(f"{number} is not a state number")
    return number


def _bacnet_value(number: float, object_type: str) -> Any:
    if object_type.startswith("binary"):
        return BinaryPV("active" if number else "inactive")
    if object_type.startswith("multi-state"):
        return Unsigned(int(number) + 1)
    return Real(number)


class BacnetField(PolledLinks):
    """The controller's BACnet device, and the BACnet devices of the field polled beside the scan."""

    def __init__(
        self, loaded: LoadedPackage, points: PointsFile, readings: Readings, package: Any, log: Log
    ) -> None:
        assert points.server is not None
        self.device = ControllerDevice(points.server, loaded, package)
        links: list[DeviceLink] = [
            BacnetLink(
                device,
                [m for m in points.inputs if m.device.name == device.name],
                [m for m in points.outputs if m.device.name == device.name],
                readings,
                loaded,
                lambda: self.device.application,
                log,
            )
            for device in points.devices.values()
            if device.protocol == "bacnet"
        ]
        super().__init__(links, points.cycle_s)

    async def start(self) -> None:
        self.device.start()
        await super().start()

    def deliver(self, package: Any) -> None:
        self.device.update(package)
        super().deliver(package)

    async def stop(self) -> int:
        try:
            return await super().stop()
        finally:
            self.device.close()
