"""A fleet made up for tests, benchmarks and training: N sites simulated, some with faults.

`hpdsl fleet generate N -o DIR` plans N sites from a seed, simulates each with the rules it is
given and writes, in DIR:

- `fleet.toml`: the manifest `hpdsl fleet verify` reads;
- `rules/`: a copy of the rules the sites were simulated with, which the manifest names, so
  that the folder verifies the same wherever it is moved;
- `sites/<id>/site.toml` and `sites/<id>/plant.toml`: the site's parameter file (what its
  controller runs with) and its plant model file (the building and the plant it controls,
  with the faults it develops as `[[fault]]` tables);
- `sites/<id>/trend.parquet`: what a BAS would have logged: every point of the rules, and
  nothing of the plant model's own state;
- `faults.toml`: the faults each site was given, for checking what the report finds.

Sites differ in size (building, heat pump and auxiliary heat scaled together, in the site file
and in the plant file alike), in climate (the built-in weathers), in heat source (air, or the
shipped ground-source example) and in start day. Faults start a quarter to two fifths into
the period, and not within the first 15 days (the baseline `findings` compares with); the
gradual ones (a fouled coil, a drifting sensor) grow over a third of it. A fouled coil is
given to air-source sites only, which have one.

May import: hpdsl.sim, hpdsl.fleet.manifest.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hpdsl.fleet import findings
from hpdsl.sim import config, faults
from hpdsl.sim.plant import PlantParameters

# The climates of the generated sites: the built-in weathers.
CLIMATES = ("greensboro", "sand-point")
# Sizes: everything extensive (loss, capacities, gains, flow) scaled by one factor.
SCALES = (0.8, 1.0, 1.25)
# Of every 10 sites, these are ground source (the shipped example's site and plant).
GROUND_EVERY = 5
# The fault pattern the sites go through, in order: a third healthy, the rest with one or two.
PATTERN: tuple[tuple[str, ...], ...] = (
    (),
    (faults.FOULED_COIL,),
    (faults.STUCK_AUX_STAGE,),
    (faults.DRIFTING_SENSOR,),
    (),
    (faults.FOULED_COIL, faults.DRIFTING_SENSOR),
    (faults.STUCK_AUX_STAGE,),
    (),
    (faults.DRIFTING_SENSOR,),
    (faults.FOULED_COIL,),
)
# The plant parameters scaled with the site's size (the rest are intensive or per unit).
_EXTENSIVE = (
    "building_ua",
    "indoor_capacity",
    "mass_capacity",
    "mass_coupling",
    "internal_gains_occupied",
    "internal_gains_unoccupied",
    "solar_gain_full_sun",
    "emitter_ua",
    "water_capacity",
    "load_flow",
    "rated_capacity",
    "rated_cooling_capacity",
    "fan_power",
    "aux_stage_capacity",
    "backup_capacity",
    "defrost_heat_draw",
    "defrost_power",
)
# The rules' parameters that follow the size: the package defaults (the documents' air-source
# example) and the shipped ground-source example's site file, at scale 1.
_SITE_SCALED = {
    "Air": {
        ("AuxHeat", "design_heat_loss"): (150.0, "kW"),
        ("AuxHeat", "aux_heat_capacity"): (100.0, "kW"),
        ("CapacityDerating", "hp_rated_capacity"): (50.0, "kW"),
    },
    "Ground": {
        ("AuxHeat", "design_heat_loss"): (60.0, "kW"),
        ("AuxHeat", "aux_heat_capacity"): (40.0, "kW"),
        ("CapacityDerating", "hp_rated_capacity"): (35.0, "kW"),
    },
}


@dataclass(frozen=True)
class PlannedSite:
    """One site to generate: what it is and which faults it develops."""

    id: str
    climate: str
    source: str  # Air or Ground
    scale: float
    start: datetime.date
    setback: float  # C: the unoccupied heating setpoint of its site file
    faults: tuple[faults.Fault, ...] = ()


def plan(count: int, days: float, seed: int = 1, start: datetime.date | None = None) -> list[PlannedSite]:
    """The sites of a fleet of `count`, with their faults; the same for the same arguments."""
    chooser = random.Random(seed)
    first = start or datetime.date(2024, 1, 1)
    sites: list[PlannedSite] = []
    for index in range(count):
        ground = index % 10 == GROUND_EVERY - 1 or index % 10 == 2 * GROUND_EVERY - 1
        source = "Ground" if ground else "Air"
        kinds = PATTERN[index % len(PATTERN)]
        if source == "Ground":
            # No outdoor coil to foul: the ground site gets a stuck stage instead.
            kinds = tuple(faults.STUCK_AUX_STAGE if k == faults.FOULED_COIL else k for k in kinds)
        sites.append(
            PlannedSite(
                id=f"site-{index + 1:03d}",
                climate=CLIMATES[index % len(CLIMATES)],
                source=source,
                scale=chooser.choice(SCALES),
                start=first + datetime.timedelta(days=chooser.randrange(0, 28)),
                setback=chooser.choice((15.0, 16.0, 17.0)),
                faults=tuple(_fault(kind, days, chooser) for kind in dict.fromkeys(kinds)),
            )
        )
    return sites


def _fault(kind: str, days: float, chooser: random.Random) -> faults.Fault:
    hour = 3600.0
    # Not before the baseline the checks compare with has been seen: a fault there from the
    # start is one for commissioning to find, not the trend.
    share = chooser.uniform(0.25, 0.4)
    after = round(max(days * 24.0 * share, 24.0 * (findings.BASELINE_DAYS + 1))) * hour
    ramp = round(days * 24.0 / 3.0) * hour
    if kind == faults.FOULED_COIL:
        return faults.Fault(kind, after, ramp, size=float(chooser.choice((6, 8, 10))))
    if kind == faults.STUCK_AUX_STAGE:
        return faults.Fault(kind, after, 0.0, stage=chooser.choice((1, 2)))
    size = float(chooser.choice((-4, -3, 3, 4, 5)))
    return faults.Fault(kind, after, ramp, size=size, sensor="outdoor_temp")


def generate(
    rules: Path,
    output: Path,
    sites: list[PlannedSite],
    days: float,
    *,
    on_site: Callable[[PlannedSite], None] | None = None,
) -> None:
    """Simulate every planned site with `rules` and write the fleet into `output`, an empty folder
    (the command writes into a folder beside its target and moves it in when complete)."""
    from hpdsl.sim import loaded, run, trend, weather

    for site in sites:
        folder = output / "sites" / site.id
        folder.mkdir(parents=True)
        (folder / "site.toml").write_text(site_file(site), encoding="utf-8")
        (folder / "plant.toml").write_text(plant_file(site), encoding="utf-8")
        package = loaded.load([rules], folder / "site.toml", name="fleet_generate")
        if not isinstance(package, loaded.LoadedPackage):
            raise GenerateError(f"the rules in {rules} have errors with the site file of {site.id}")
        model = config.read(folder / "plant.toml")
        if not model.ok:
            raise GenerateError(f"the plant file of {site.id} has errors")  # written from checked values
        start = datetime.datetime.combine(site.start, datetime.time())
        try:
            simulation = run.simulate(package, model, weather.load(site.climate), start, days * 86400.0, 60.0)
        except run.BindingError as exc:
            raise GenerateError(f"the plant cannot be connected to the rules in {rules}: {exc}") from None
        logged = trend.Trend(simulation.trend.time)
        for column in simulation.trend.columns.values():
            if column.role not in ("plant", "weather"):
                logged.add(column)
        trend.write(logged, folder / "trend.parquet")
        if on_site is not None:
            on_site(site)
    (output / "fleet.toml").write_text(manifest_file(sites), encoding="utf-8")
    (output / "faults.toml").write_text(faults_file(sites), encoding="utf-8")


class GenerateError(Exception):
    """The rules cannot run the generated sites."""


def site_file(site: PlannedSite) -> str:
    """The site parameter file: the sizes the controller is told, and its setback."""
    lines = [f"# Site parameters of {site.id} ({site.source.lower()} source, {site.climate})."]
    tables: dict[str, list[str]] = {}
    for (program, name), (value, unit) in _SITE_SCALED[site.source].items():
        tables.setdefault(program, []).append(f'{name} = "{value * site.scale:g} {unit}"')
    tables.setdefault("Occupancy", []).append(f'unoccupied_heating_setpoint = "{site.setback:g}C"')
    if site.source == "Ground":
        tables.setdefault("Sources", []).append('installed_source = "Ground"')
        tables["Sources"] += ['ground_temp_min = "4C"', 'ground_temp_max = "22C"']
        tables["AuxHeat"].append('design_outdoor_temp = "-12C"')
        tables.setdefault("EquipmentProtection", []).append('low_loop_temp_limit = "3C"')
        tables.setdefault("OperatingRegime", []).append('cooling_condensing_approach = "5 K"')
    for program, entries in tables.items():
        lines += ["", f"[{program}]", *entries]
    return "\n".join(lines) + "\n"


def plant_file(site: PlannedSite) -> str:
    """The plant model file: the default plant scaled to the site, its source, and its faults."""
    defaults = PlantParameters()
    base = _GROUND if site.source == "Ground" else {}

    def scaled(name: str, factor: float) -> str:
        value = base.get(name, float(getattr(defaults, name))) * factor
        return f'{name} = "{value:.6g} {config.unit_of(name)}"'

    tables: dict[str, list[str]] = {}
    for name in _EXTENSIVE:
        tables.setdefault(config.section_of(name), []).append(scaled(name, site.scale))
    tables.setdefault("source", []).append(f'source_type = "{site.source}"')
    if site.source == "Ground":
        tables["source"].append(scaled("borefield_resistance", 1.0 / site.scale))
        tables["source"] += [
            scaled(name, site.scale) for name in ("borefield_capacity", "borefield_recovery")
        ]
    lines = [f"# The plant of {site.id}, {site.scale:g} times the documents' example in size."]
    for section, entries in tables.items():
        lines += ["", f"[{section}]", *entries]
    for fault in site.faults:
        lines += ["", "[[fault]]", f'kind = "{fault.kind}"', f'after = "{fault.after_s / 3600.0:.0f} h"']
        if fault.ramp_s:
            lines.append(f'ramp = "{fault.ramp_s / 3600.0:.0f} h"')
        if fault.kind == faults.STUCK_AUX_STAGE:
            lines.append(f"stage = {fault.stage}")
        if fault.kind == faults.DRIFTING_SENSOR:
            lines.append(f'sensor = "{fault.sensor}"')
        if fault.kind != faults.STUCK_AUX_STAGE:
            lines.append(f'size = "{fault.size:g} K"')
    return "\n".join(lines) + "\n"


# The ground-source example's plant (rules/plants/ground-source-example.toml) at scale 1: a
# 60 kW building on a 35 kW heat pump, in the default plant's terms.
_GROUND: dict[str, float] = {
    "building_ua": 1.82,
    "indoor_capacity": 8.0,
    "mass_capacity": 100.0,
    "mass_coupling": 10.0,
    "internal_gains_occupied": 4.8,
    "internal_gains_unoccupied": 1.2,
    "solar_gain_full_sun": 6.0,
    "emitter_ua": 2.5,
    "water_capacity": 1.0,
    "load_flow": 1.7,
    "rated_capacity": 35.0,
    "rated_cooling_capacity": 32.0,
    "aux_stage_capacity": 20.0,
    "backup_capacity": 20.0,
    "borefield_resistance": 0.15,
    "borefield_capacity": 9000.0,
    "borefield_recovery": 4.4,
}


def manifest_file(sites: list[PlannedSite]) -> str:
    """The fleet manifest: each site's rules (the copy beside it), site file, trend and weather."""
    lines = ['[fleet]\nname = "Generated fleet"']
    for site in sites:
        lines += [
            "",
            "[[site]]",
            f'id = "{site.id}"',
            'rules = "rules"',
            f'params = "sites/{site.id}/site.toml"',
            f'trend = "sites/{site.id}/trend.parquet"',
            f'weather = "{site.climate}"',
        ]
    return "\n".join(lines) + "\n"


def faults_file(sites: list[PlannedSite]) -> str:
    """What each site was given: `[sites.<id>] faults = [...]`, with one line describing each."""
    lines = ["# The faults each generated site was given: `hpdsl fleet verify` finds these and no others."]
    for site in sites:
        kinds = ", ".join(f'"{fault.kind}"' for fault in site.faults)
        lines += ["", f'[sites."{site.id}"]', f"faults = [{kinds}]"]
        lines += [f"# {fault.describe()}" for fault in site.faults]
    return "\n".join(lines) + "\n"
