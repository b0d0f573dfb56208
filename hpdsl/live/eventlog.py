"""The controller's event log on disk: one JSON object per line, rotated by size, never half written.

Each record is written with one `write` to a file opened for appending, so once `append`
returns, the record is in the operating system's hands: killing the process (even with
SIGKILL) loses none. `sync` asks the disk to keep what was written through a power cut; the
controller calls it once a cycle in which something was logged. When the file reaches its size
limit it is renamed `events.1.jsonl` (the older ones shift to `.2`, `.3`, ...; the oldest beyond
`keep` is deleted) and a new `events.jsonl` begins, so no record is split between two files.

A line that a power cut left incomplete is the only kind of damage the log can have; `read`
skips it and says how many it skipped.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CURRENT = "events.jsonl"


@dataclass(frozen=True)
class LogRead:
    records: list[dict[str, object]]
    damaged: int  # lines that were not a complete record


class EventLog:
    """An append-only, size-rotated JSON Lines log in a folder."""

    def __init__(self, folder: Path, rotate_bytes: int, keep: int) -> None:
        self.folder = folder
        self.rotate_bytes = rotate_bytes
        self.keep = keep
        self.listeners: list[Callable[[dict[str, object]], None]] = []  # told of every record
        folder.mkdir(parents=True, exist_ok=True)
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        self._unsynced = False
        self.written = 0  # records appended since this log was opened
        if self._size and not _ends_with_newline(folder / CURRENT):
            # A power cut left the last line incomplete: start the next record on a line of its own.
            self._write(b"\n")

    def _open(self) -> int:
        return os.open(self.folder / CURRENT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)
        self._unsynced = True

    def append(self, record: dict[str, object]) -> None:
        """Write one record (its values made JSON: times as ISO text, members by name)."""
        line = (
            json.dumps(_finite(record), default=_json_default, separators=(",", ":"), allow_nan=False) + "\n"
        ).encode()
        if self._size and self._size + len(line) > self.rotate_bytes:
            self.rotate()
        self._write(line)
        self.written += 1
        for listener in self.listeners:
            listener(record)

    def sync(self) -> None:
        """Ask the disk to keep every record written so far."""
        if self._unsynced:
            os.fsync(self._fd)
            self._unsynced = False

    def rotate(self) -> None:
        self.sync()
        os.close(self._fd)
        oldest = self.folder / f"events.{self.keep}.jsonl"
        if oldest.exists():
            oldest.unlink()
        for k in range(self.keep - 1, 0, -1):
            older = self.folder / f"events.{k}.jsonl"
            if older.exists():
                older.rename(self.folder / f"events.{k + 1}.jsonl")
        (self.folder / CURRENT).rename(self.folder / "events.1.jsonl")
        self._fd = self._open()
        self._size = 0
        _sync_folder(self.folder)

    def close(self) -> None:
        self.sync()
        os.close(self._fd)


def files(folder: Path) -> list[Path]:
    """The log's files, oldest first."""
    rotated = sorted(
        (p for p in folder.glob("events.*.jsonl") if p.name.split(".")[1].isdigit()),
        key=lambda p: -int(p.name.split(".")[1]),
    )
    current = folder / CURRENT
    return [*rotated, *([current] if current.exists() else [])]


def read(folder: Path) -> LogRead:
    """Every complete record of the log, oldest first, and the count of damaged lines."""
    records: list[dict[str, object]] = []
    damaged = 0
    for path in files(folder):
        for line in _lines(path):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                damaged += 1
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                damaged += 1
    return LogRead(records, damaged)


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                yield line


def _finite(value: object) -> object:
    """The record with every infinite or not-a-number float as text (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_default(value: object) -> object:
    name = getattr(value, "name", None)
    if isinstance(name, str):  # an enumeration member
        return name
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return repr(value)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
