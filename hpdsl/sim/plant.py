"""The plant a simulation closes the loop with: building, heat pump, frost, auxiliary heat, source.

The model is deliberately small, each part a textbook lumped model whose parameters an
engineer can look up or estimate from a plant schedule (docs/simulate.md lists them all):

- Building: two thermal nodes, the indoor air with furnishings and the structure's mass,
  coupled to each other; heat loss proportional to the indoor-outdoor difference (the
  conductance UA), internal gains by occupancy and solar gains in proportion to the global
  irradiance. Emitters (fan coils or radiators) pass heat between the load water and the air
  in proportion to the mean water-air difference; electric aux heaters and the fossil-fuel
  backup heat the air directly (strip heaters and a furnace in the air handler), downstream
  of the heat pump, as in an air handler with a heat-pump coil.
- Load water: one node, the return; the heat pump's leaving water is the return plus the heat
  it delivers over the flow's heat capacity.
- Heat pump: two compressor stages; capacity = rating x derating by source temperature (the
  manufacturer's curve) x frost factor x stage fraction; COP = Carnot COP of the condensing and
  evaporating temperatures x an efficiency; refrigerant pressures are R-410A saturation
  pressures of those temperatures; discharge temperature and compressor current follow the lift
  and the power.
- Frost: the outdoor coil, colder than 0C and colder than the air's dew point, collects frost
  at a rate set by the airflow and the air's humidity above saturation at the coil. Frost cuts
  capacity and lowers the evaporating temperature; a reverse-cycle defrost melts it with the
  heat it takes from the load water, then warms the coil; frost also melts when the coil is
  above 0C.
- Source: outdoor air; a water loop held by a boiler and a cooling tower the rules command;
  or a ground loop around a borefield whose temperature follows the seasons (10-15C).
- BAS: what a building automation system around the heat-pump controller does — the
  supply-water reset curve with room compensation, a PI load controller that turns the error of
  the leaving water into the 0-100 % load demand, the estimate of the heat the building needs,
  and an operator who acknowledges a latched alarm some hours after it stopped the compressor.
- Faults (`hpdsl.sim.faults`): a fouled outdoor coil widens the evaporating approach; a stuck
  aux stage heats whatever its command (and its current switch says so); a drifting sensor
  reads its true value plus the drift.

Explicit Euler steps of at most `max_substep` keep every node stable (the fastest time
constant, the load water's, is some 20 minutes).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from hpdsl.sim.faults import DRIFTING_SENSOR, FOULED_COIL, STUCK_AUX_STAGE, Fault

# R-410A saturation pressure, ln(p / bar) = A - B / T: through -20C (4.0 bar) and 50C (30.6 bar),
# within 2 % from -30C to 60C.
_R410A_A = 10.78
_R410A_B = 2378.0
_LATENT_FUSION_KJ_PER_KG = 334.0
_ATMOSPHERE_KPA = 101.325
_KELVIN = 273.15


def saturation_pressure_bar(temperature_c: float) -> float:
    """R-410A saturation pressure (bar absolute) at a temperature."""
    return math.exp(_R410A_A - _R410A_B / (temperature_c + _KELVIN))


def vapour_pressure_kpa(temperature_c: float) -> float:
    """Saturation vapour pressure over water (above 0C) or ice (below), Magnus formula."""
    if temperature_c >= 0.0:
        return 0.61094 * math.exp(17.625 * temperature_c / (temperature_c + 243.04))
    return 0.61115 * math.exp(22.452 * temperature_c / (temperature_c + 272.55))


def humidity_ratio(temperature_c: float, relative_humidity_pct: float) -> float:
    """kg of water vapour per kg of dry air."""
    vapour = vapour_pressure_kpa(temperature_c) * min(max(relative_humidity_pct, 0.0), 100.0) / 100.0
    return 0.622 * vapour / (_ATMOSPHERE_KPA - vapour)


@dataclass(frozen=True)
class PlantParameters:
    """Every parameter of the plant model, in the units named in each field's comment."""

    # Building
    building_ua: float = 4.84  # kW/K: 150 kW at 21C indoor, -10C outdoor (the documents' example)
    indoor_capacity: float = 20.0  # kWh/K: indoor air and furnishings
    mass_capacity: float = 250.0  # kWh/K: the structure
    mass_coupling: float = 25.0  # kW/K: between the indoor air and the structure
    internal_gains_occupied: float = 12.0  # kW
    internal_gains_unoccupied: float = 3.0  # kW
    solar_gain_full_sun: float = 15.0  # kW at 1000 W/m2 global irradiance
    emitter_ua: float = 6.25  # kW/K: 150 kW at a 45C mean water temperature and 21C indoors
    initial_indoor_temp: float = 20.0  # C
    # Load water
    water_capacity: float = 2.5  # kWh/K: about 2 m3 of water in pipes, emitters and buffer
    load_flow: float = 2.4  # l/s: 50 kW at a 5 K difference
    fluid_heat_capacity: float = 4.18  # kJ/l/K
    # Heat pump
    rated_capacity: float = 50.0  # kW heating above 5C outdoor (the documents' unit)
    rated_cooling_capacity: float = 45.0  # kW
    capacity_curve: tuple[tuple[float, float], ...] = ((-20.0, 0.2), (-10.0, 0.4), (-5.0, 0.6), (5.0, 1.0))
    carnot_efficiency: float = 0.45  # 1: share of the Carnot COP reached
    condensing_approach: float = 3.0  # K above the leaving water (heating) or the air (cooling)
    evaporating_approach_air: float = 8.0  # K below the outdoor air at full load
    evaporating_approach_water: float = 5.0  # K below the source water at full load
    max_cop: float = 7.0  # 1
    fan_power: float = 1.0  # kW of the outdoor fan while it runs
    supply_voltage: float = 400.0  # V, three-phase
    power_factor: float = 0.9  # 1
    variable_speed_min: float = 0.15  # fraction of capacity at the variable-speed minimum
    # Frost and defrost
    coil_airflow: float = 5.0  # kg/s of air through the outdoor coil with the fan running
    frost_deposit_share: float = 0.35  # 1: share of the air's water above saturation left as frost
    frost_capacity: float = 25.0  # kg of frost at which the coil is blocked
    frost_capacity_loss: float = 0.5  # 1: capacity lost with a blocked coil
    frost_approach: float = 6.0  # K of extra evaporator approach with a blocked coil
    defrost_heat_draw: float = 25.0  # kW taken from the load water during a defrost (docs/simulate.md)
    defrost_power: float = 7.0  # kW electric during a defrost
    coil_heat_capacity: float = 150.0  # kJ/K of the outdoor coil, its refrigerant and casing
    coil_air_conductance: float = 1.0  # kW/K between the coil and still air (fan off)
    coil_time_constant: float = 60.0  # s: coil temperature following the refrigerant
    # Auxiliary heat
    aux_stage_capacity: float = 50.0  # kW of each electric stage
    backup_capacity: float = 60.0  # kW of the fossil-fuel backup
    # Source
    source_type: str = ""  # Air, WaterLoop or Ground; "" = the rules' installed_source
    ground_mean_temp: float = 12.5  # C: undisturbed ground, middle of the documents' 10-15C
    ground_swing: float = 2.5  # K: seasonal swing of the ground
    ground_warmest_day: int = 290  # day of the year the ground is warmest (mid-October)
    borefield_resistance: float = 0.11  # K/kW between the borefield and the loop fluid (1100 m of bore)
    borefield_capacity: float = 12000.0  # kWh/K of the ground within 2.5 m of the boreholes
    borefield_recovery: float = 6.0  # kW/K: the far ground restoring the borefield
    loop_capacity: float = 60.0  # kWh/K of a water loop (about 50 m3)
    loop_other_units: float = 10.0  # kW the loop's other units reject into it (interior zones)
    loop_other_units_ua: float = 1.5  # kW/K the perimeter units take out below 15C outdoor
    loop_boiler_capacity: float = 80.0  # kW
    loop_tower_ua: float = 8.0  # kW/K of the cooling tower against the outdoor air
    initial_source_temp: float = 22.0  # C (water loop)
    # BAS
    reset_design_outdoor: float = -10.0  # C
    reset_design_supply: float = 50.0  # C of leaving water at the design outdoor temperature
    reset_mild_outdoor: float = 15.0  # C
    reset_mild_supply: float = 30.0  # C
    reset_room_gain: float = 2.0  # K of supply per K of room below its setpoint
    supply_min: float = 25.0  # C
    supply_max: float = 55.0  # C
    cooling_supply: float = 10.0  # C of chilled water at the cooling setpoint
    cooling_setpoint: float = 24.0  # C
    demand_gain: float = 10.0  # % of load demand per K of supply error
    demand_integral_time: float = 300.0  # s
    recovery_gain: float = 25.0  # kW/K: heat asked for per K of room below (less above) its setpoint
    comfort_margin: float = 1.0  # K the room may sit below the heating (above the cooling) setpoint
    operator_reset_after: float = 14400.0  # s a latched lockout waits for an acknowledge; 0 = never
    commissioned_days_before: float = 30.0  # d of operation before the run starts
    # Faults the plant develops during the run ([[fault]] tables; none by default)
    faults: tuple[Fault, ...] = ()

    def capacity_fraction(self, source_temp: float) -> float:
        """The derating curve at a source temperature, held flat beyond its ends."""
        curve = self.capacity_curve
        if source_temp <= curve[0][0]:
            return curve[0][1]
        for (t0, f0), (t1, f1) in itertools.pairwise(curve):
            if source_temp <= t1:
                return f0 + (f1 - f0) * (source_temp - t0) / (t1 - t0)
        return curve[-1][1]


# What each sensor reads: the attribute of `Plant` that holds it after `sense`.
SENSOR_ATTRIBUTES: dict[str, str] = {
    "outdoor_temp": "outdoor_temp",
    "outdoor_coil_temp": "coil_temp",
    "compressor_running": "compressor_on",
    "load_demand": "load_demand",
    "supply_temp": "leaving_temp",
    "return_temp": "return_temp",
    "source_water_temp": "source_reading",
    "electrical_power": "hp_power",
    "alarm_reset": "alarm_reset",
    "occupancy_override": "occupancy_override",
    "discharge_temp": "discharge_temp",
    "suction_pressure": "suction_pressure",
    "discharge_pressure": "discharge_pressure",
    "compressor_current": "compressor_current",
    "load_flow": "load_flow",
    "outdoor_humidity": "humidity",
    "coil_outlet_temp": "coil_outlet_temp",
    "space_temp": "indoor_temp",
    "required_heat": "required_heat",
    "supply_temp_target": "supply_target",
    "days_since_commissioning": "days_since_commissioning",
    "aux_stage_1_proof": "aux_1_on",
    "aux_stage_2_proof": "aux_2_on",
}


@dataclass
class Commands:
    """What the controller commands, as the plant sees it (filled from the rules' outputs each scan)."""

    stage_1: float = 0.0  # fraction of the unit's capacity from compressor 1 (0 .. 0.5)
    stage_2: float = 0.0  # fraction from compressor 2 (0 .. 0.5)
    reversed_cycle: bool = False  # reversing valve in the cooling position
    outdoor_fan: bool = True
    aux_stage_1: bool = False
    aux_stage_2: bool = False
    backup: bool = False
    loop_boiler: bool = False
    loop_tower: bool = False
    cooling_mode: bool = False
    heating_setpoint: float = 21.0
    occupied: bool = False
    lockout: bool = False  # a latched alarm holds the compressor off


class Plant:
    """The plant's state and its physics; `sense` updates its readings, `step` advances it."""

    def __init__(self, parameters: PlantParameters, source_type: str, start_day_of_year: float) -> None:
        p = parameters
        self.p = p
        self.source_type = source_type
        self.indoor_temp = p.initial_indoor_temp
        self.mass_temp = p.initial_indoor_temp
        self.return_temp = 30.0
        self.leaving_temp = 30.0
        self.coil_temp = 5.0
        self.frost = 0.0
        self.discharge_temp = 20.0
        self.borefield_temp = p.ground_mean_temp
        self.loop_temp = p.initial_source_temp
        self.day_of_year = start_day_of_year
        self.elapsed_s = 0.0
        self.demand_integral = 0.0
        self.load_demand = 0.0
        self.lockout_s = 0.0
        # Flows of the last step, for the trend.
        self.hp_heat = 0.0
        self.hp_power = 0.0
        self.aux_heat = 0.0
        self.backup_heat = 0.0
        self.loop_boiler_heat = 0.0
        self.heat_loss = 0.0
        self.gains = 0.0
        self.capacity_factor = 1.0
        self.compressor_on = False
        self.cop = 0.0
        self.evaporating_temp = 0.0
        self.condensing_temp = 30.0
        self.comfort_low = 20.0
        self.comfort_high = p.cooling_setpoint + p.comfort_margin
        self.supply_target = 35.0
        self.source_temp = p.ground_mean_temp if source_type == "Ground" else p.initial_source_temp
        self._flow_capacity = p.load_flow * p.fluid_heat_capacity  # kW/K
        self._amps_per_kw = 1000.0 / (math.sqrt(3.0) * p.supply_voltage * p.power_factor)
        # Readings (see SENSOR_ATTRIBUTES), updated by `sense`.
        self.outdoor_temp = 0.0
        self.humidity = 70.0
        self.suction_pressure = 0.0
        self.discharge_pressure = 0.0
        self.compressor_current = 0.0
        self.coil_outlet_temp = self.coil_temp
        self.source_reading = self.source_temp
        self.alarm_reset = False
        self.occupancy_override = False
        self.load_flow = p.load_flow
        self.required_heat = 0.0
        self.days_since_commissioning = p.commissioned_days_before
        self.aux_1_on = False  # an aux stage's heater energised (its current switch)
        self.aux_2_on = False
        # Faults: a drifting sensor's present error (read by the sensor bindings), a fouled
        # coil's added approach and a stuck stage, updated at every step.
        self.sensor_offset: dict[str, float] = {f.sensor: 0.0 for f in p.faults if f.kind == DRIFTING_SENSOR}
        self.fouling = 0.0
        self._stuck = {f.stage: f for f in p.faults if f.kind == STUCK_AUX_STAGE}

    # --- Readings -----------------------------------------------------------------------------

    def sense(self, outdoor_temp: float, humidity: float, commands: Commands) -> None:
        """Update what the field devices read now, and the BAS signals computed from them."""
        p = self.p
        running = self.compressor_on
        self.outdoor_temp = outdoor_temp
        self.humidity = humidity
        air = self.source_type == "Air"
        if running:
            self.suction_pressure = math.exp(_R410A_A - _R410A_B / (self.evaporating_temp + _KELVIN))
            self.discharge_pressure = math.exp(_R410A_A - _R410A_B / (self.condensing_temp + _KELVIN))
            stages = commands.stage_1 + commands.stage_2
            share_1 = commands.stage_1 / stages if stages > 0.0 else 0.0
            fan = p.fan_power if air and commands.outdoor_fan else 0.0
            compressor_power = max(self.hp_power - fan, 0.0)
            self.compressor_current = compressor_power * share_1 * self._amps_per_kw
            self.coil_outlet_temp = self.coil_temp + (2.0 if commands.reversed_cycle else 0.0)
        else:
            idle = min(outdoor_temp if air else self.source_temp, 40.0)
            self.suction_pressure = self.discharge_pressure = math.exp(_R410A_A - _R410A_B / (idle + _KELVIN))
            self.compressor_current = 0.0
            self.coil_outlet_temp = self.coil_temp
        # Without a source-water sensor fitted (air source) the input reads the plant room.
        self.source_reading = self.indoor_temp if air else self.source_temp
        self.alarm_reset = self._operator_reset(commands)
        self.required_heat = self._required_heat(outdoor_temp, commands)
        self.days_since_commissioning = p.commissioned_days_before + self.elapsed_s / 86400.0
        self.comfort_low = commands.heating_setpoint - p.comfort_margin

    def _operator_reset(self, commands: Commands) -> bool:
        """The operator acknowledges a lockout `operator_reset_after` after it began."""
        after = self.p.operator_reset_after
        if not commands.lockout or after <= 0.0:
            return False
        return self.lockout_s >= after

    def _required_heat(self, outdoor_temp: float, commands: Commands) -> float:
        if commands.cooling_mode:
            return 0.0
        p = self.p
        setpoint = commands.heating_setpoint
        loss = p.building_ua * (setpoint - outdoor_temp)
        # Room feedback both ways: more heat while the room is cold, less while it is warm.
        recovery = p.recovery_gain * (setpoint - self.indoor_temp)
        return max(loss - self.gains + recovery, 0.0)

    # --- Physics --------------------------------------------------------------------------------

    def step(
        self, dt: float, outdoor_temp: float, humidity: float, irradiance: float, commands: Commands
    ) -> None:
        """Advance the plant by `dt` seconds under the commands of the last scan."""
        if dt <= 0.0:
            return
        p = self.p
        self.elapsed_s += dt
        self.day_of_year = (self.day_of_year + dt / 86400.0) % 365.0
        self.lockout_s = self.lockout_s + dt if commands.lockout else 0.0
        if p.faults:
            self._faults()
        self._bas(dt, outdoor_temp, commands)
        heating = not commands.cooling_mode
        running = commands.stage_1 + commands.stage_2 > 0.0
        defrosting = running and heating and commands.reversed_cycle
        fraction = commands.stage_1 + commands.stage_2
        self.compressor_on = running
        air = self.source_type == "Air"
        source = outdoor_temp if air else self.source_temp
        blockage = min(self.frost / p.frost_capacity, 1.0) if air else 0.0
        self.capacity_factor = 1.0 - p.frost_capacity_loss * blockage
        approach = p.evaporating_approach_air + self.fouling if air else p.evaporating_approach_water
        hp_heat = hp_power = 0.0
        coil_heat = 0.0  # kW into the outdoor coil (defrost)
        if defrosting:
            hp_heat = -p.defrost_heat_draw
            hp_power = p.defrost_power
            coil_heat = p.defrost_heat_draw + p.defrost_power
            self.evaporating_temp = self.return_temp - approach
            self.condensing_temp = max(self.coil_temp, 0.0) + p.condensing_approach
        elif running and heating:
            capacity = p.rated_capacity * (
                p.capacity_fraction(source) if air else self._water_source_fraction(source)
            )
            hp_heat = capacity * self.capacity_factor * min(fraction, 1.0)
            load_share = min(fraction, 1.0)
            self.evaporating_temp = source - approach * (0.4 + 0.6 * load_share) - p.frost_approach * blockage
            leaving = self.return_temp + hp_heat / self._flow_capacity
            self.condensing_temp = leaving + p.condensing_approach
            cop = self._carnot(self.condensing_temp, self.evaporating_temp)
            hp_power = hp_heat / cop + (p.fan_power if air and commands.outdoor_fan else 0.0)
        elif running:  # cooling: the load water is chilled, heat goes to the source
            capacity = p.rated_cooling_capacity * max(1.0 - 0.01 * (source - 35.0), 0.5)
            hp_heat = -capacity * min(fraction, 1.0)
            self.evaporating_temp = self.return_temp + hp_heat / self._flow_capacity - p.condensing_approach
            self.condensing_temp = source + (12.0 if air else p.condensing_approach + 2.0)
            eer = self._carnot(self.condensing_temp, self.evaporating_temp) - 1.0
            hp_power = -hp_heat / max(eer, 1.0) + (p.fan_power if air and commands.outdoor_fan else 0.0)
        self.hp_heat = hp_heat
        self.hp_power = hp_power
        self.cop = hp_heat / hp_power if hp_power > 0.0 and hp_heat > 0.0 else 0.0
        self.aux_1_on = self._stage_on(1, commands.aux_stage_1 and heating)
        self.aux_2_on = self._stage_on(2, commands.aux_stage_2 and heating)
        self.aux_heat = p.aux_stage_capacity * (self.aux_1_on + self.aux_2_on)
        self.backup_heat = p.backup_capacity if commands.backup and heating else 0.0
        # The source takes what the evaporator took (heating) or gets what the condenser rejected.
        source_extraction = (hp_heat - hp_power) if running and not defrosting else 0.0
        self._coil(dt, outdoor_temp, humidity, running, heating, defrosting, commands, coil_heat)
        self._source(dt, outdoor_temp, source_extraction, commands)
        self._building(dt, outdoor_temp, irradiance, commands)
        lift = self.condensing_temp - self.evaporating_temp
        target = self.condensing_temp + 10.0 + 0.35 * lift if running else 20.0
        self.discharge_temp += (target - self.discharge_temp) * min(dt / 120.0, 1.0)

    def _faults(self) -> None:
        """The faults' sizes now: a drifting sensor's error, a fouled coil's added approach."""
        self.fouling = 0.0
        for fault in self.p.faults:
            share = fault.share(self.elapsed_s)
            if fault.kind == DRIFTING_SENSOR:
                self.sensor_offset[fault.sensor] = fault.size * share
            elif fault.kind == FOULED_COIL:
                self.fouling += fault.size * share

    def _stage_on(self, stage: int, commanded: bool) -> bool:
        """An aux stage's heater is energised when commanded, or always once its contactor is stuck."""
        stuck = self._stuck.get(stage)
        return commanded or (stuck is not None and self.elapsed_s >= stuck.after_s)

    def _water_source_fraction(self, source: float) -> float:
        return min(max(1.0 + 0.015 * (source - 10.0), 0.7), 1.15)

    def _carnot(self, condensing: float, evaporating: float) -> float:
        lift = max(condensing - evaporating, 5.0)
        return min(self.p.carnot_efficiency * (condensing + _KELVIN) / lift, self.p.max_cop)

    def _bas(self, dt: float, outdoor_temp: float, commands: Commands) -> None:
        """Supply reset with room compensation, and the PI load controller on the leaving water."""
        p = self.p
        if commands.cooling_mode:
            room_error = self.indoor_temp - p.cooling_setpoint
            target = min(max(p.cooling_supply - p.reset_room_gain * room_error, 6.0), 16.0)
            error = self.leaving_temp - target
        else:
            span = p.reset_mild_outdoor - p.reset_design_outdoor
            share = min(max((p.reset_mild_outdoor - outdoor_temp) / span, 0.0), 1.0)
            curve = p.reset_mild_supply + share * (p.reset_design_supply - p.reset_mild_supply)
            room = commands.heating_setpoint - self.indoor_temp
            target = min(max(curve + p.reset_room_gain * room, p.supply_min), p.supply_max)
            error = target - self.leaving_temp
        self.supply_target = target
        integral = self.demand_integral + p.demand_gain * error * dt / p.demand_integral_time
        if not self.compressor_on and integral > self.demand_integral:
            # Anti-windup: no wind-up while the compressor is off (its minimum off time, a
            # lockout) and cannot answer; the integral may still unwind.
            integral = self.demand_integral
        self.demand_integral = min(max(integral, 0.0), 100.0)
        self.load_demand = min(max(p.demand_gain * error + self.demand_integral, 0.0), 100.0)

    def _coil(
        self,
        dt: float,
        outdoor_temp: float,
        humidity: float,
        running: bool,
        heating: bool,
        defrosting: bool,
        commands: Commands,
        coil_heat: float,
    ) -> None:
        p = self.p
        if self.source_type != "Air":
            self.coil_temp = outdoor_temp
            self.frost = 0.0
            return
        if defrosting:
            # Hot gas: the heat melts frost first (the coil holds 0C), then warms the metal.
            loss = p.coil_air_conductance * (self.coil_temp - outdoor_temp)
            energy = (coil_heat - loss) * dt  # kJ
            if self.frost > 0.0 and self.coil_temp >= 0.0:
                melted = min(self.frost, max(energy, 0.0) / _LATENT_FUSION_KJ_PER_KG)
                self.frost -= melted
                energy -= melted * _LATENT_FUSION_KJ_PER_KG
            self.coil_temp += energy / p.coil_heat_capacity
            if self.frost > 0.0 and self.coil_temp > 0.0:
                self.coil_temp = 0.0
            return
        fan = commands.outdoor_fan and running
        if running and heating:
            target = self.evaporating_temp + 2.0
        elif running:
            target = self.condensing_temp - 2.0
        else:
            target = outdoor_temp
        tau = p.coil_time_constant if running else 300.0
        self.coil_temp += (target - self.coil_temp) * min(dt / tau, 1.0)
        if self.coil_temp < 0.0 and fan and heating:
            surplus = humidity_ratio(outdoor_temp, humidity) - humidity_ratio(self.coil_temp, 100.0)
            if surplus > 0.0:
                self.frost = min(
                    self.frost + p.coil_airflow * surplus * p.frost_deposit_share * dt, 2.0 * p.frost_capacity
                )
        elif self.coil_temp > 0.5 and self.frost > 0.0:
            melt = p.coil_air_conductance * 5.0 * self.coil_temp * dt / _LATENT_FUSION_KJ_PER_KG
            self.frost = max(self.frost - melt, 0.0)

    def _source(self, dt: float, outdoor_temp: float, extraction: float, commands: Commands) -> None:
        """Water loop or borefield temperature; `extraction` is the heat the unit takes out (kW)."""
        p = self.p
        self.loop_boiler_heat = 0.0
        if self.source_type == "Ground":
            season = math.cos(2.0 * math.pi * (self.day_of_year - p.ground_warmest_day) / 365.0)
            ground = p.ground_mean_temp + p.ground_swing * season
            flow = -extraction + p.borefield_recovery * (ground - self.borefield_temp)
            self.borefield_temp += flow * dt / 3600.0 / p.borefield_capacity
            self.source_temp = self.borefield_temp - p.borefield_resistance * extraction
        elif self.source_type == "WaterLoop":
            perimeter = p.loop_other_units_ua * max(15.0 - outdoor_temp, 0.0)
            boiler = p.loop_boiler_capacity if commands.loop_boiler else 0.0
            tower = (
                p.loop_tower_ua * max(self.loop_temp - (outdoor_temp - 3.0), 0.0)
                if commands.loop_tower
                else 0.0
            )
            flow = p.loop_other_units - perimeter + boiler - tower - extraction
            self.loop_temp += flow * dt / 3600.0 / p.loop_capacity
            self.source_temp = self.loop_temp
            self.loop_boiler_heat = boiler
        else:
            self.source_temp = outdoor_temp

    def _building(self, dt: float, outdoor_temp: float, irradiance: float, commands: Commands) -> None:
        p = self.p
        hours = dt / 3600.0
        leaving = self.return_temp + self.hp_heat / self._flow_capacity
        emitter = p.emitter_ua * ((leaving + self.return_temp) / 2.0 - self.indoor_temp)
        gains = (p.internal_gains_occupied if commands.occupied else p.internal_gains_unoccupied) + (
            p.solar_gain_full_sun * max(irradiance, 0.0) / 1000.0
        )
        loss = p.building_ua * (self.indoor_temp - outdoor_temp)
        to_mass = p.mass_coupling * (self.indoor_temp - self.mass_temp)
        air_flow = emitter + self.aux_heat + self.backup_heat + gains - loss - to_mass
        self.indoor_temp += air_flow * hours / p.indoor_capacity
        self.mass_temp += to_mass * hours / p.mass_capacity
        self.return_temp += (self.hp_heat - emitter) * hours / p.water_capacity
        self.leaving_temp = self.return_temp + self.hp_heat / self._flow_capacity
        self.heat_loss = loss
        self.gains = gains


# The trend columns of the plant model: (attribute, column, unit, kind).
PLANT_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("indoor_temp", "plant.indoor_temp", "C", "real"),
    ("mass_temp", "plant.mass_temp", "C", "real"),
    ("comfort_low", "plant.comfort_low", "C", "real"),
    ("comfort_high", "plant.comfort_high", "C", "real"),
    ("leaving_temp", "plant.supply_temp", "C", "real"),
    ("return_temp", "plant.return_temp", "C", "real"),
    ("supply_target", "plant.supply_target", "C", "real"),
    ("load_demand", "plant.load_demand", "%", "real"),
    ("source_temp", "plant.source_temp", "C", "real"),
    ("coil_temp", "plant.coil_temp", "C", "real"),
    ("frost", "plant.frost", "kg", "real"),
    ("capacity_factor", "plant.capacity_factor", "1", "real"),
    ("compressor_on", "plant.compressor_on", "", "bool"),
    ("hp_heat", "plant.hp_heat", "kW", "real"),
    ("hp_power", "plant.hp_power", "kW", "real"),
    ("cop", "plant.cop", "1", "real"),
    ("aux_heat", "plant.aux_heat", "kW", "real"),
    ("backup_heat", "plant.backup_heat", "kW", "real"),
    ("loop_boiler_heat", "plant.loop_boiler_heat", "kW", "real"),
    ("heat_loss", "plant.heat_loss", "kW", "real"),
    ("gains", "plant.gains", "kW", "real"),
)


def snapshot_function() -> Any:
    """A function returning the plant's trend values as one tuple (one attribute read each)."""
    import operator

    return operator.attrgetter(*(attribute for attribute, _, _, _ in PLANT_COLUMNS))
