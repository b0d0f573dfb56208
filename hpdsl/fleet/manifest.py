"""The fleet manifest of `hpdsl fleet verify`: the sites, each with its rules, site file and trend.

TOML, one `[[site]]` table a site::

    [fleet]
    name = "North portfolio"          # the report's title

    [[site]]
    id = "greensboro-01"              # unique; the report's row
    rules = "rules"                   # a rules folder (or file), relative to this manifest
    params = "sites/greensboro-01.toml"   # optional: the site parameter file
    trend = "trends/greensboro-01.parquet"   # Parquet or CSV: a path, or an fsspec URL
    weather = "greensboro"            # optional: the site's weather, to check its outdoor sensor

Paths are relative to the manifest's folder; a trend may also be an fsspec URL (`s3://...`,
`file:///...`, `memory://...`), fetched by the worker that replays it. Each problem is a
diagnostic at its line (`fleet-manifest`). A site's `weather` is a built-in weather or a weather
CSV file (docs/weather.md), a reference for the outdoor temperature the site's own sensor reads:
without one, the sensor's drift and the outdoor coil's approach are judged by the sensor alone.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import read_checked
from hpdsl.base.source import SourceFile, Span
from hpdsl.compile.site import load_toml, toml_places
from hpdsl.sim.weather import BUILTIN

_SITE_KEYS = ("id", "rules", "params", "trend", "weather")
_FLEET_KEYS = ("name",)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HINT = '`[[site]]` tables with `id`, `rules` and `trend` (strings): `trend = "trends/site-01.parquet"`'


@dataclass(frozen=True)
class Site:
    """One site of the fleet: where its rules, its site parameters and its trend are."""

    id: str
    rules: Path
    trend: str  # a local path (absolute) or an fsspec URL
    params: Path | None = None
    weather: str = ""  # a built-in weather's name or a weather CSV file's absolute path; "" for none

    @property
    def url(self) -> bool:
        """Whether the trend is an fsspec URL (else an absolute local path)."""
        return _URL.match(self.trend) is not None


@dataclass
class Manifest:
    name: str
    sites: list[Site] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: SourceFile | None = None

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def read(path: Path) -> Manifest:
    return read_checked(path, Manifest, lambda source: check(source, path.resolve().parent))


def _value_span(places: dict[tuple[str, ...], Span], index: int, header: Span, key: str) -> Span:
    """Where the value of `key` of the index-th site stands; its header when it has none."""
    return places.get(("site", str(index), "=" + key), header)


def check(source: SourceFile, folder: Path) -> Manifest:
    manifest = Manifest(source.name, source=source)
    data = load_toml(source, messages.FLEET_MANIFEST, _HINT, manifest.diagnostics)
    if data is None:
        return manifest
    start = Span.point(source.name, 1, 1)

    def error(span: Span, problem: str, hint: str | None = None) -> None:
        manifest.diagnostics.append(messages.FLEET_MANIFEST.at(span, problem=problem, hint=hint))

    for key in data:
        if key not in ("fleet", "site"):
            error(start, f"`{key}` is not a table of a fleet manifest", _HINT)
    fleet = data.get("fleet", {})
    if isinstance(fleet, dict):
        name = fleet.get("name")
        if isinstance(name, str) and name.strip():
            manifest.name = name.strip()
        for key in fleet:
            if key not in _FLEET_KEYS:
                error(start, f"`{key}` is not a setting of `[fleet]`", "it takes `name`")
    sites = data.get("site", [])
    if not isinstance(sites, list) or not sites:
        error(start, "the manifest lists no site", _HINT)
        return manifest
    places = toml_places(source)
    seen: dict[str, Span] = {}
    for index, table in enumerate(sites):
        header = places.get(("site", str(index)), start)
        at = functools.partial(_value_span, places, index, header)
        if not isinstance(table, dict):
            error(header, "a site is a `[[site]]` table", _HINT)
            continue
        for key in table:
            if key not in _SITE_KEYS:
                suggestion = messages.did_you_mean(key, _SITE_KEYS)
                error(
                    at(key),
                    f"`{key}` is not a setting of a site",
                    suggestion or "a site takes " + ", ".join(_SITE_KEYS),
                )
        values: dict[str, str] = {}
        for key in ("id", "rules", "trend"):
            value = table.get(key)
            if not isinstance(value, str) or not value.strip():
                error(at(key), f"the site has no `{key}`", _HINT)
            else:
                values[key] = value.strip()
        params = table.get("params")
        if params is not None and (not isinstance(params, str) or not params.strip()):
            error(
                at("params"),
                "`params` names a site parameter file",
                'write `params = "sites/site-01.toml"`',
            )
            params = None
        if len(values) < 3:
            continue
        site_id = values["id"]
        if not _ID.fullmatch(site_id):
            error(
                at("id"),
                f"`{site_id}` is not a site id",
                "letters, digits, `-`, `_` and `.`, at most 64",
            )
            continue
        if site_id in seen:
            error(
                at("id"),
                f"site `{site_id}` is listed twice",
                f"the first is at line {seen[site_id].line}",
            )
            continue
        seen[site_id] = at("id")
        rules = folder / values["rules"]
        if not rules.exists():
            error(
                at("rules"),
                f"no rules at `{values['rules']}`",
                "a rules folder or file, relative to the manifest",
            )
            continue
        trend = values["trend"]
        if _URL.match(trend) is None:
            local = folder / trend
            if not local.is_file():
                error(
                    at("trend"),
                    f"no trend file at `{trend}`",
                    "a Parquet or CSV file, or an fsspec URL",
                )
                continue
            trend = str(local)
        params_path = folder / params if isinstance(params, str) else None
        if params_path is not None and not params_path.is_file():
            error(
                at("params"),
                f"no site parameter file at `{params}`",
            )
            continue
        weather = table.get("weather", "")
        if not isinstance(weather, str):
            error(at("weather"), "`weather` names a built-in weather or a weather CSV file")
            continue
        if weather and weather not in BUILTIN:
            local = folder / weather
            if not local.is_file():
                error(
                    at("weather"),
                    f"no weather file at `{weather}`",
                    messages.did_you_mean(weather, BUILTIN)
                    or "a weather CSV file, or one of " + ", ".join(f"`{n}`" for n in BUILTIN),
                )
                continue
            weather = str(local)
        manifest.sites.append(Site(site_id, rules, trend, params_path, weather))
    return manifest
