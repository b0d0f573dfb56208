"""The rules built natively with mypyc (`hpdsl.sim.native`) run exactly as the interpreted module.

A small package with every kind of state (a `for` timer, a hysteresis, a machine with
`time_in_state`, a delayed alarm, a daily counter and total, an enumeration input and output)
is built once per session into a cache of its own, then driven scan by scan with random
inputs beside the interpreted module: every value of every scan, and every alarm change, must
be equal. The package's own replay loop (`Package.replay`) must equal scanning one row at a
time, and a copy of a native package's state must go on as the package does.
"""

from __future__ import annotations

import datetime
import math
import random
import struct
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from librt.strings import BytesWriter

from hpdsl.sim import loaded as loaded_
from hpdsl.sim import native
from hpdsl.sim.verify.replay import copy_state

pytestmark = pytest.mark.skipif(bool(native.unavailable()), reason=native.unavailable() or "")

RULES = Path(__file__).resolve().parent / "data" / "native"
START = datetime.datetime(2024, 3, 30, 22, 0)  # the days turn over during the run


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[loaded_.LoadedPackage, Any]:
    cache = tmp_path_factory.mktemp("native-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HPDSL_CACHE", str(cache))
        package = loaded_.load([RULES], name="native_test")
        assert isinstance(package, loaded_.LoadedPackage)
        module = native.compiled(package.source())
        assert not isinstance(module, str), module
        again = native.compiled(package.source())
        assert again is module  # one build, imported once
        assert len(list((cache / "native").iterdir())) == 1
    return package, module


def _rows(package: Any, count: int, seed: int) -> list[tuple[object, ...]]:
    """Random field inputs, in the order of FIELD_INPUTS: a wandering temperature, calls, requests,
    now and then a faulted (None or out of range) reading."""
    chooser = random.Random(seed)
    members = list(type(package.loop.phase))
    temp = 35.0
    rows: list[tuple[object, ...]] = []
    for _ in range(count):
        temp = min(max(temp + chooser.uniform(-0.8, 0.8), 20.0), 55.0)
        reading: object = None if chooser.random() < 0.01 else (200.0 if chooser.random() < 0.01 else temp)
        call = len(rows) % 400 < 300 and chooser.random() < 0.995
        request = members[chooser.randrange(len(members))] if chooser.random() < 0.02 else members[0]
        values = {"Loop.temp": reading, "Loop.call": call, "Loop.site_mode": request}
        rows.append(tuple(values[name] for name in type(package).FIELD_INPUTS))
    return rows


def _scan_by_scan(package: Any, rows: list[tuple[object, ...]]) -> tuple[list[Any], list[Any]]:
    out, changes = [], []
    names = [name.split(".", 1)[1] for name in type(package).FIELD_INPUTS]
    for index, row in enumerate(rows):
        for name, value in zip(names, row, strict=True):
            setattr(package.loop, name, value)
        package.scan(0.0 if index == 0 else 60.0)
        out.append(package.snapshot())
        changes += [(index, (c.alarm, c.raised, c.time_s)) for c in package.loop.alarm_changes]
    return out, changes


def _members_as_names(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Snapshots with enumeration members (of two different modules) by name, to compare."""
    return [tuple(getattr(v, "name", v) for v in row) for row in rows]


def test_every_scan_of_the_native_build_equals_the_interpreted_one(built: tuple[Any, Any]) -> None:
    package, module = built
    interpreted, compiled = package.new(START), package.with_module(module).new(START)
    assert type(compiled).__module__ != type(interpreted).__module__
    rows = _rows(interpreted, 3 * 1440, seed=5)
    expected, expected_changes = _scan_by_scan(interpreted, rows)
    native_rows = [tuple(module.LoopMode[v.name] if hasattr(v, "name") else v for v in r) for r in rows]
    found, found_changes = _scan_by_scan(compiled, native_rows)
    assert _members_as_names(found) == _members_as_names(expected)
    assert found_changes == expected_changes
    # the run went through every state and raised the alarm
    phases = {row[type(interpreted).SNAPSHOT.index("Loop.phase")] for row in expected}
    assert phases == {0, 1, 2}
    assert any(raised for _, (name, raised, _) in expected_changes if name == "long_run")


def test_the_package_s_own_replay_loop_equals_scanning_row_by_row(built: tuple[Any, Any]) -> None:
    package, module = built
    for runs in (package, package.with_module(module)):
        one, other = runs.new(START), runs.new(START)
        rows = _rows(one, 1440, seed=9)
        rows = [tuple(runs.module.LoopMode[v.name] if hasattr(v, "name") else v for v in r) for r in rows]
        expected, expected_changes = _scan_by_scan(one, rows)
        record = struct.Struct(type(other).RECORD)
        assert loaded_.record_dtype(type(other)).itemsize == record.size
        block = np.array([[_as_number(v) for v in row] for row in rows], dtype="<f8")
        assert struct.calcsize(type(other).INPUT_RECORD) == block.itemsize * block.shape[1]
        inputs = [row.tobytes() for row in block]  # a row's INPUT_RECORD: its doubles, little-endian
        changes: list[tuple[int, list[Any]]] = []
        # two stretches, and a gap of three scans before row 700 (the inputs held)
        scans = [1] * len(rows)
        lengths = [0.0] + [60.0] * (len(rows) - 1)
        first = BytesWriter()
        stop = other.replay(b"".join(inputs[:700]), scans[:700], lengths[:700], first, changes, 0)
        assert stop == 700
        rest = BytesWriter()
        stop = other.replay(b"".join(inputs[700:]), scans[700:], lengths[700:], rest, changes, 700)
        assert stop == len(rows)
        written = first.getvalue() + rest.getvalue()
        assert len(written) == record.size * len(rows)  # one RECORD a scan, as struct lays it out
        found = _numbers(written, type(other))
        recorded = [type(other).SNAPSHOT.index(name) for name in type(other).RECORDED]
        numbers = [[_as_number(row[k]) for k in recorded] for row in expected]
        np.testing.assert_array_equal(found, np.array(numbers, dtype=np.float64))
        assert struct.unpack_from(type(other).RECORD, written) == tuple(  # the struct codes hold
            v.value if hasattr(v, "value") else v for v in (expected[0][k] for k in recorded)
        )
        flat = [(i, (c.alarm, c.raised, c.time_s)) for i, records in changes for c in records]
        assert flat == expected_changes
        # a gap of three scans before the second row: two with the first row's inputs held
        held, by_hand = runs.new(START), runs.new(START)
        gap = BytesWriter()
        assert held.replay(b"".join(inputs[:2]), [1, 3], [0.0, 20.0], gap, [], 0) == 4
        assert len(gap.getvalue()) == 4 * record.size
        bare = runs.new(START)  # nothing recorded: the state brought forward alone
        assert bare.replay(b"".join(inputs[:2]), [1, 3], [0.0, 20.0], None, [], 0) == 4
        assert bare.snapshot() == held.snapshot()
        assert held.loop._time_s == 60.0
        names = [name.split(".", 1)[1] for name in type(by_hand).FIELD_INPUTS]
        steps = [(rows[0], 0.0), (None, 20.0), (None, 20.0), (rows[1], 20.0)]
        scanned = []
        for row, dt in steps:
            for name, value in zip(names, row or (), strict=False):
                setattr(by_hand.loop, name, value)
            by_hand.scan(dt)
            snapshot = by_hand.snapshot()
            scanned.append([_as_number(snapshot[k]) for k in recorded])
        np.testing.assert_array_equal(_numbers(gap.getvalue(), type(other)), scanned)


def _numbers(out: bytes | bytearray, package: type[Any]) -> npt.NDArray[np.float64]:
    """The records `replay` wrote, as numbers: a row a scan, a column a name of RECORDED."""
    records = np.frombuffer(out, dtype=loaded_.record_dtype(package))
    return np.stack([records[name].astype(np.float64) for name in package.RECORDED], axis=1)


def _as_number(value: object) -> float:
    """A snapshot's value as `Package.replay` records it: a member by its number, None as NaN."""
    if value is None:
        return math.nan
    number = getattr(value, "value", value)
    assert isinstance(number, int | float)
    return float(number)


def test_a_copy_of_a_native_package_goes_on_as_the_package(built: tuple[Any, Any]) -> None:
    package, module = built
    compiled = package.with_module(module).new(START)
    rows = [
        tuple(module.LoopMode[v.name] if hasattr(v, "name") else v for v in r)
        for r in _rows(compiled, 600, 3)
    ]
    _scan_by_scan(compiled, rows[:300])
    twin = copy_state(compiled)
    assert twin is not compiled and twin.loop is not compiled.loop
    first, _ = _scan_by_scan(compiled, rows[300:])
    second, _ = _scan_by_scan(twin, rows[300:])
    assert first == second


def test_a_site_file_given_at_run_time_equals_one_compiled_in(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[Loop]\nlow = "50C"\nband = "3 K"\n', encoding="utf-8")
    baked = loaded_.load([RULES], site, name="native_test")
    plain = loaded_.load([RULES], name="native_test")
    assert isinstance(baked, loaded_.LoadedPackage) and isinstance(plain, loaded_.LoadedPackage)
    given = plain.with_site(site)
    assert isinstance(given, loaded_.LoadedPackage)
    one, other = baked.new(START), given.new(START)
    assert (other.loop.low, other.loop.band) == (50.0, 3.0)
    rows = _rows(one, 1440, seed=11)
    assert _members_as_names(_scan_by_scan(one, rows)[0]) == _members_as_names(
        _scan_by_scan(
            other,
            [tuple(plain.module.LoopMode[v.name] if hasattr(v, "name") else v for v in r) for r in rows],
        )[0]
    )
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[Loop]\nlow = "90C"\n', encoding="utf-8")
    problems = plain.with_site(wrong)
    assert isinstance(problems, list) and "outside" in problems[0].message
