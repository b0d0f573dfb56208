"""The Python target, driven through time: every construct at exact times, faults, the contract.

Each scenario compiles a small rules file, imports the generated module and scans a program
with an explicit clock, asserting outputs at the scans where they must (and must not) change.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pytarget import compile_rules, run


@pytest.fixture
def compile_(tmp_path: Path) -> Any:
    def build(text: str) -> ModuleType:
        return compile_rules(tmp_path, text)

    return build


# ------------------------------------------------------------------------------ hysteresis
CHANGEOVER = """
    enum Mode (Heating, Cooling)

    program Changeover
        input outdoor: C range -40C .. 60C fallback 10C
        output mode: Mode = Heating
        hysteresis mode on outdoor
            below 15C -> Heating
            above 21C -> Cooling
        end
    end
"""


def test_hysteresis_holds_in_the_dead_band(compile_: Any) -> None:
    module = compile_(CHANGEOVER)
    program = module.Changeover()
    heating, cooling = module.Mode.Heating, module.Mode.Cooling
    for outdoor, expected in [(18, heating), (21, heating), (21.1, cooling), (15, cooling), (14.9, heating)]:
        run(program, 60, outdoor=outdoor)
        assert program.mode is expected, outdoor


def test_hysteresis_does_not_hunt_between_14c_and_22c(compile_: Any) -> None:
    module = compile_(CHANGEOVER)
    program = module.Changeover()
    changes, last = 0, program.mode
    # Two hours per oscillation, one-minute scans, ten oscillations.
    for minute in range(1200):
        program.outdoor = 18 + 4 * math.sin(2 * math.pi * minute / 120)
        program.scan(60)
        if program.mode is not last:
            changes += 1
            last = program.mode
    assert changes == 20  # one change per threshold crossing: two per oscillation, no chatter
    # Oscillating inside the dead band never changes the mode.
    for minute in range(600):
        program.outdoor = 18 + 2.9 * math.sin(2 * math.pi * minute / 17)
        program.scan(60)
        assert program.mode is last


# ------------------------------------------------------------------------------ timers
def test_for_fires_at_ten_minutes_and_not_at_nine_59(compile_: Any) -> None:
    module = compile_(
        """
        program Frost
            input coil_cold: bool
            output defrost_due: bool
            rule watch
                defrost_due = coil_cold for 10 min
            end
        end
        """
    )
    program = module.Frost()
    run(program, 5, coil_cold=False)
    program.coil_cold = True
    program.scan(1)  # the condition is first true here: the timer starts at 0
    run(program, 599)
    assert program.defrost_due is False  # 9:59 after it became true
    program.scan(1)
    assert program.defrost_due is True  # 10:00
    program.coil_cold = False
    program.scan(1)
    assert program.defrost_due is False  # false as soon as the condition is false
    program.coil_cold = True
    run(program, 300)
    assert program.defrost_due is False  # a break restarts the timer


def test_time_since_rising_falling_and_counter(compile_: Any) -> None:
    module = compile_(
        """
        program Edges
            input button: bool
            output pressed: bool
            output released: bool
            output recently: bool
            counter presses of button
            rule edges
                pressed = rising(button)
                released = falling(button)
                recently = time_since(button) < 2 min
            end
        end
        """
    )
    program = module.Edges()
    run(program, 10, button=False)
    assert (program.pressed, program.released, program.recently) == (False, False, False)  # never pressed
    run(program, 1, button=True)
    assert (program.pressed, program.recently, program.presses) == (True, True, 1)
    run(program, 1)
    assert program.pressed is False  # one scan only
    run(program, 1, button=False)
    assert program.released is True
    run(program, 118)
    assert program.recently is True  # 119 s after the last scan with the button pressed
    run(program, 1)
    assert program.recently is False
    run(program, 1, button=True)
    run(program, 1, button=False)
    assert program.presses == 2


# ------------------------------------------------------------------------------ state machines
SEQUENCE = """
    program Defrost
        input request: bool
        input coil_outlet: C range -40C .. 80C fallback -5C
        output reverse: bool
        output fan: bool = true
        event defrost_done
            duration: min
            timed_out: bool
        end
        machine sequence
            initial state Idle
                when request -> Defrosting
            end
            state Defrosting
                entry
                    reverse = true
                    fan = false
                end
                exit
                    reverse = false
                    fan = true
                    log defrost_done(duration: time_in_state, timed_out: time_in_state >= 15 min)
                end
                when coil_outlet > 15C -> CoolDown
                after 15 min -> CoolDown
            end
            state CoolDown
                after 10 min -> Idle
            end
        end
    end
"""


def test_machine_timeout_entry_exit_and_log(compile_: Any) -> None:
    module = compile_(SEQUENCE)
    state = module.SequenceState
    program = module.Defrost()
    run(program, 60, dt=60, request=False, coil_outlet=0.0)
    assert program.sequence is state.Idle and program.fan is True
    run(program, 60, dt=60, request=True)
    assert program.sequence is state.Defrosting
    assert (program.reverse, program.fan) == (True, False)  # entry ran in the same scan
    program.request = False
    run(program, 14 * 60, dt=60)
    assert program.sequence is state.Defrosting  # 14 min in the state
    program.scan(60)
    assert program.sequence is state.CoolDown  # the 15 min timeout
    assert (program.reverse, program.fan) == (False, True)  # exit ran
    [entry] = program.log_entries
    assert entry.event == "defrost_done"
    assert entry.fields == {"duration": pytest.approx(15.0), "timed_out": True}
    program.scan(60)
    assert program.log_entries == []  # records are per scan
    run(program, 8 * 60, dt=60)
    assert program.sequence is state.CoolDown  # 9 min after entering it
    program.scan(60)
    assert program.sequence is state.Idle  # after the 10 min cool-down


def test_machine_guard_ends_early(compile_: Any) -> None:
    module = compile_(SEQUENCE)
    program = module.Defrost()
    run(program, 60, dt=60, request=True, coil_outlet=0.0)
    run(program, 5 * 60, dt=60, request=False)
    run(program, 60, dt=60, coil_outlet=16.0)
    assert program.sequence is module.SequenceState.CoolDown
    assert program.log_entries[0].fields["timed_out"] is False
    assert program.log_entries[0].fields["duration"] == pytest.approx(6.0)


# ------------------------------------------------------------------------------ totals
def test_daily_totalizer_resets_at_midnight_of_the_simulated_clock(compile_: Any) -> None:
    module = compile_(
        """
        program Runtime
            input running: bool
            input power: kW range 0 kW .. 100 kW
            totalizer runtime_today: h of running per day
            totalizer energy_today: kWh of power per day
            totalizer energy_ever: kWh of power
            counter starts_today of running per day
        end
        """
    )
    program = module.Runtime(start=datetime.datetime(2024, 1, 1, 23, 0))
    run(program, 59 * 60, dt=60, running=True, power=6.0)
    assert program.runtime_today == pytest.approx(59 / 60)
    assert program.energy_today == pytest.approx(5.9)
    assert program.starts_today == 1
    program.scan(60)  # 23:59 -> 00:00: the minute belongs to the old day
    assert program.now == datetime.datetime(2024, 1, 2, 0, 0)
    assert program.runtime_today == 0.0
    assert program.energy_today == 0.0
    assert program.starts_today == 0
    assert program.energy_ever == pytest.approx(6.0)  # no period: never resets
    program.scan(60)
    assert program.runtime_today == pytest.approx(1 / 60)
    assert program.energy_today == pytest.approx(0.1)


def test_schedule_follows_the_wall_clock(compile_: Any) -> None:
    module = compile_(
        """
        program Occupancy
            parameter occupied_setpoint: C = 21C range 15C .. 25C
            parameter unoccupied_setpoint: C = 15C range 10C .. 20C
            output setpoint: C = 15C
            schedule occupied_hours
                monday .. friday 07:00 .. 18:00
                saturday 08:00 .. 12:00
            end
            rule setback
                if occupied_hours then
                    setpoint = occupied_setpoint
                else
                    setpoint = unoccupied_setpoint
                end
            end
        end
        """
    )
    program = module.Occupancy(start=datetime.datetime(2024, 1, 1, 6, 0))  # Monday 06:00
    seen = {}
    for _ in range(7 * 24 * 4):
        program.scan(900)
        seen[program.now] = program.setpoint
    assert seen[datetime.datetime(2024, 1, 1, 6, 45)] == 15.0
    assert seen[datetime.datetime(2024, 1, 1, 7, 0)] == 21.0
    assert seen[datetime.datetime(2024, 1, 1, 17, 45)] == 21.0
    assert seen[datetime.datetime(2024, 1, 1, 18, 0)] == 15.0
    assert seen[datetime.datetime(2024, 1, 6, 9, 0)] == 21.0  # Saturday morning
    assert seen[datetime.datetime(2024, 1, 6, 12, 0)] == 15.0
    assert seen[datetime.datetime(2024, 1, 7, 10, 0)] == 15.0  # Sunday


# ------------------------------------------------------------------------------ alarms
PROTECTION = """
    program Protection
        input suction_pressure: bar range 0 bar .. 30 bar
        input discharge_temp: C range -20C .. 160C
        input alarm_reset: bool fallback false
        output compressor_enable: bool = true
        rule release priority 1
            compressor_enable = true
        end
        alarm low_pressure priority 2
            when suction_pressure < 3 bar
            severity critical
            delay 10 s
            latching
            acknowledge alarm_reset
            action
                compressor_enable = false
        end
        alarm hot_discharge
            when discharge_temp > 80C
            severity high
            delay 30 s
        end
    end
"""


def test_alarm_delay_latching_and_acknowledge(compile_: Any) -> None:
    module = compile_(PROTECTION)
    program = module.Protection()
    run(program, 5, suction_pressure=5.0, discharge_temp=60.0, alarm_reset=False)
    program.suction_pressure = 2.0
    program.scan(1)
    run(program, 9)
    assert program.low_pressure is False and program.compressor_enable is True  # 9 s of 10
    program.scan(1)
    assert program.low_pressure is True and program.compressor_enable is False
    [record] = program.alarm_changes
    assert (record.alarm, record.severity, record.raised) == ("low_pressure", "critical", True)
    assert record.values == {"suction_pressure": 2.0}
    run(program, 60, suction_pressure=5.0)
    assert program.low_pressure is True and program.compressor_enable is False  # latched
    run(program, 1, alarm_reset=True)
    assert program.low_pressure is False and program.compressor_enable is True
    assert [(r.alarm, r.raised) for r in program.alarm_changes] == [("low_pressure", False)]
    assert program.active_alarms() == []


def test_acknowledge_does_not_clear_an_alarm_whose_condition_holds(compile_: Any) -> None:
    module = compile_(PROTECTION)
    program = module.Protection()
    run(program, 20, suction_pressure=2.0, discharge_temp=60.0, alarm_reset=False)
    run(program, 5, alarm_reset=True)
    assert program.low_pressure is True


def test_non_latching_alarm_clears_with_its_condition(compile_: Any) -> None:
    module = compile_(PROTECTION)
    program = module.Protection()
    run(program, 30, suction_pressure=5.0, discharge_temp=90.0, alarm_reset=False)
    assert program.hot_discharge is False  # true for 29 s (the first scan starts the delay)
    run(program, 1)
    assert program.hot_discharge is True
    run(program, 1, discharge_temp=70.0)
    assert program.hot_discharge is False


# ------------------------------------------------------------------------------ faults
def test_faulted_input_uses_its_fallback_and_raises_a_sensor_fault_alarm(compile_: Any) -> None:
    module = compile_(CHANGEOVER)
    program = module.Changeover()
    run(program, 1, outdoor=25.0)
    assert program.mode is module.Mode.Cooling
    for bad in (None, math.nan, math.inf, 99.0, -41.0, "warm"):
        program.outdoor = bad
        program.scan(1)  # never raises
        assert program.mode is module.Mode.Heating  # fallback 10C is below 15C
        assert "outdoor_sensor_fault" in program.active_alarms()
    program.outdoor = 25.0
    program.scan(1)
    assert program.active_alarms() == []
    assert [(r.alarm, r.raised) for r in program.alarm_changes] == [("outdoor_sensor_fault", False)]


def test_input_without_fallback_holds_its_last_good_value(compile_: Any) -> None:
    module = compile_(
        """
        program Supply
            input supply_temp: C range 0C .. 90C
            output too_hot: bool
            rule watch
                too_hot = supply_temp > 60C
            end
        end
        """
    )
    program = module.Supply()
    run(program, 1, supply_temp=70.0)
    assert program.too_hot is True
    run(program, 1, supply_temp=None)
    assert program.too_hot is True  # last good reading
    assert program.alarm_changes[0].alarm == "supply_temp_sensor_fault"
    fresh = module.Supply()
    run(fresh, 1, supply_temp=math.nan)
    assert fresh.too_hot is False  # safe default before any good reading: 0C held in range


def test_division_by_zero_is_defined(compile_: Any) -> None:
    module = compile_(
        """
        program Cop
            input heat: kW range 0 kW .. 300 kW
            input power: kW range 0 kW .. 100 kW
            output cop: real
            rule ratio
                cop = heat / power
            end
        end
        """
    )
    program = module.Cop()
    run(program, 1, heat=30.0, power=10.0)
    assert program.cop == pytest.approx(3.0)
    run(program, 1, power=0.0)
    assert program.cop == 0.0


def test_assigned_values_stay_in_the_output_range(compile_: Any) -> None:
    module = compile_(
        """
        program Demand
            input room: C range 0C .. 40C
            output demand: % range 0 % .. 100 %
            rule demand_from_room
                demand = (21C - room) * 25 %/K
            end
        end
        """
    )
    program = module.Demand()
    for room, expected in [(20.0, 25.0), (10.0, 100.0), (30.0, 0.0)]:
        run(program, 1, room=room)
        assert program.demand == pytest.approx(expected)


def test_a_bad_scan_time_counts_as_zero(compile_: Any) -> None:
    module = compile_(SEQUENCE)
    program = module.Defrost()
    for dt in (math.nan, -5.0, math.inf):
        program.scan(dt)
    assert program.now == module.DEFAULT_START


# ------------------------------------------------------------------------------ minimum on and off times
def test_minimum_on_and_off_times(compile_: Any) -> None:
    module = compile_(
        """
        program Aux
            input demand: bool
            output stage: bool min_on 5 min min_off 3 min
            rule follow
                stage = demand
            end
        end
        """
    )
    program = module.Aux()
    run(program, 60, dt=60, demand=True)
    assert program.stage is True  # free to switch at start-up
    run(program, 60, dt=60, demand=False)
    assert program.stage is True  # on for 1 min only
    run(program, 3 * 60, dt=60)
    assert program.stage is True  # 4 min
    program.scan(60)
    assert program.stage is False  # 5 min on: released
    run(program, 2 * 60, dt=60, demand=True)
    assert program.stage is False  # off for 2 min of 3
    program.scan(60)
    assert program.stage is True


# ------------------------------------------------------------------------------ units, tables, curves
def test_units_are_converted(compile_: Any) -> None:
    module = compile_(
        """
        program Units
            input outdoor: F range -40F .. 140F
            input runtime: min range 0 min .. 1000 min
            parameter limit: C = 20C range 0C .. 40C
            output warm: bool
            output long_run: bool
            output margin: K
            rule convert
                warm = outdoor > limit
                long_run = runtime > 2 h
                margin = outdoor - limit
            end
        end
        """
    )
    program = module.Units()
    run(program, 1, outdoor=68.0, runtime=120.0)
    assert (program.warm, program.long_run) == (False, False)
    assert program.margin == pytest.approx(0.0, abs=1e-9)
    run(program, 1, outdoor=77.0, runtime=121.0)
    assert (program.warm, program.long_run) == (True, True)
    assert program.margin == pytest.approx(5.0)  # 77F is 25C


def test_tables_and_curves(compile_: Any) -> None:
    module = compile_(
        """
        enum Speed (Off, Low, Max)
        table staging(load: % range 0 % .. 100 %)
            | load          | stage |
            | 0 % .. 30 %   | Off   |
            | 30 % .. 60 %  | Low   |
            | 60 % .. 100 % | Max   |
        end
        curve capacity(outdoor: C) -> kW increasing
            | -20C | 10 kW |
            |  -5C | 30 kW |
            |   5C | 50 kW |
        end
        program Plant
            input load: % range 0 % .. 100 %
            input outdoor: C range -40C .. 60C
            output speed: Speed = Off
            output hp_capacity: kW
            rule look_up
                speed = staging(load).stage
                hp_capacity = capacity(outdoor)
            end
        end
        """
    )
    speed = module.Speed
    assert module.staging(30.0).stage is speed.Off  # shared end point: the first row wins
    assert module.staging(30.1).stage is speed.Low
    assert module.staging(-5.0).stage is speed.Off  # below every row: the nearest
    assert module.staging(120.0).stage is speed.Max
    assert module.capacity(-30.0) == 10.0  # flat beyond the ends
    assert module.capacity(0.0) == pytest.approx(40.0)
    assert module.capacity(20.0) == 50.0
    program = module.Plant()
    run(program, 1, load=75.0, outdoor=-12.5)
    assert program.speed is speed.Max
    assert program.hp_capacity == pytest.approx(20.0)


# ------------------------------------------------------------------------------ order and priority
def test_higher_priority_wins_and_data_flows_in_one_scan(compile_: Any) -> None:
    module = compile_(
        """
        program Heat
            input outdoor: C range -40C .. 60C
            input defrost: bool
            output stage: bool
            var cold: bool
            rule support_defrost priority 2
                if defrost then
                    stage = true
                end
            end
            rule by_weather priority 1
                stage = cold
            end
            rule classify
                cold = outdoor < 0C
            end
        end
        """
    )
    program = module.Heat()
    run(program, 1, outdoor=-5.0, defrost=False)
    assert program.stage is True  # `cold` was set earlier in the same scan
    run(program, 1, outdoor=10.0, defrost=True)
    assert program.stage is True  # the higher priority has the last word
    run(program, 1, defrost=False)
    assert program.stage is False


# ------------------------------------------------------------------------------ the contract
def test_parameters_are_checked_at_construction(compile_: Any) -> None:
    module = compile_(
        PROTECTION.replace("when discharge_temp > 80C", "when discharge_temp > limit").replace(
            "input alarm_reset", "parameter limit: C = 80C range 60C .. 140C\n        input alarm_reset"
        )
    )
    assert module.Protection(limit=100.0).limit == 100.0
    for bad in (150.0, math.nan, "hot", True):
        with pytest.raises(ValueError, match="limit"):
            module.Protection(limit=bad)


def test_metadata_lists_points_alarms_and_events(compile_: Any) -> None:
    module = compile_(SEQUENCE)
    cls = module.Defrost
    points = {p.name: p for p in cls.POINTS}
    assert points["coil_outlet"].kind == "input"
    assert (points["coil_outlet"].unit, points["coil_outlet"].low, points["coil_outlet"].high) == (
        "C",
        -40.0,
        80.0,
    )
    assert points["fan"].kind == "output" and points["fan"].default is True
    assert points["sequence"].kind == "machine"
    alarms = {a.name: a for a in cls.ALARMS}
    assert alarms["coil_outlet_sensor_fault"].sensor == "coil_outlet"
    [event] = cls.EVENTS
    assert event.fields == (("duration", "real", "min"), ("timed_out", "bool", ""))
    with pytest.raises(AttributeError):
        cls().coil_outlett = 3.0  # a misspelt input is an error, not silently ignored


def test_package_runs_programs_in_wiring_order(compile_: Any) -> None:
    module = compile_(
        """
        program Consumer
            input value: C from Producer.value
            output doubled_above_zero: K
            rule use
                doubled_above_zero = 2 * (value - 0C)
            end
        end
        program Producer
            input sensor: C range -40C .. 60C fallback 0C
            output value: C
            rule publish
                value = sensor
            end
        end
        """
    )
    assert [p.NAME for p in module.Package.PROGRAMS] == ["Producer", "Consumer"]
    package = module.Package()
    package.producer.sensor = 12.0
    package.scan(1.0)
    assert package.consumer.doubled_above_zero == pytest.approx(24.0)  # same scan
    consumer = module.Consumer()
    consumer.scan(1.0)  # standalone, its wired input unset: a fault, not an exception
    assert consumer.active_alarms() == ["value_sensor_fault"]


def test_a_wired_zero_is_a_zero_not_the_fallback(compile_: Any) -> None:
    """A wired input whose source reads 0 gets 0, even when the input declares another fallback."""
    module = compile_(
        """
        program Producer
            input sensor: C range -40C .. 60C fallback 0C
            output value: C
            output running: bool
            rule publish
                value = sensor
                running = sensor > 5C
            end
        end
        program Consumer
            input value: C from Producer.value fallback 10C
            input enabled: bool from Producer.running fallback true
            output seen: C
            output active: bool
            rule use
                seen = value
                active = enabled
            end
        end
        """
    )
    package = module.Package()
    package.producer.sensor = 0.0
    package.scan(1.0)
    assert package.consumer.seen == 0.0 and package.consumer.active is False
    package.producer.sensor = 7.0
    package.scan(1.0)
    assert package.consumer.seen == 7.0 and package.consumer.active is True


def test_names_python_reserves_are_renamed(compile_: Any) -> None:
    module = compile_(
        """
        program Names
            input dt: s range 0 s .. 100 s
            input lambda: bool
            input min: real range 0 .. 10
            output max: real
            output scan: bool
            rule r
                max = min + dt / 1 s
                scan = lambda
            end
        end
        """
    )
    program = module.Names()
    program.dt, program.lambda_, program.min = 5.0, True, 2.0
    program.scan(1.0)
    assert program.max == pytest.approx(7.0)
    assert program.scan_ is True  # `scan` is the method
    attributes = {point.name: point.attribute for point in module.Names.POINTS}
    assert attributes == {
        "dt": "dt",
        "lambda": "lambda_",
        "min": "min",
        "max": "max",
        "scan": "scan_",
        "cycle_time_fault": "cycle_time_fault",  # every program's alarm
    }


def test_during_actions_and_a_daily_counter(compile_: Any) -> None:
    module = compile_(
        """
        program Pump
            input demand: bool
            output pump: bool
            var running_scans: int = 0
            counter starts_today of pump per day
            machine control
                initial state Off
                    entry
                        pump = false
                    end
                    when demand -> On
                end
                state On
                    entry
                        pump = true
                    end
                    during
                        running_scans = running_scans + 1
                    end
                    when not demand -> Off
                end
            end
        end
        """
    )
    program = module.Pump(start=datetime.datetime(2024, 1, 1, 23, 57))
    run(program, 60, dt=60, demand=True)
    assert program.pump is True and program.running_scans == 1  # during runs in the entry scan
    run(program, 60, dt=60)
    assert program.running_scans == 2 and program.starts_today == 1
    run(program, 60, dt=60, demand=False)  # 00:00: a new day
    assert program.pump is False and program.starts_today == 0
    run(program, 60, dt=60, demand=True)
    assert program.starts_today == 1


def test_the_alarms_every_program_has_step_aside_for_names_of_the_rules(tmp_path: Path) -> None:
    """`cycle_time_fault` and `parameter_fault` are names a program may use; the alarms move."""
    module = compile_rules(
        tmp_path,
        """
        program Clash "Names the built-in alarms would take"
            input x: C range -40C .. 60C fallback 10C "A reading"
            parameter limit: C = 20C range 0C .. 40C "A limit"
            output cycle_time_fault: bool = false "An output with the alarm's name"
            output parameter_fault: bool = false "Another"
            rule r
                cycle_time_fault = x > limit
                parameter_fault = x < 0C
            end
        end
        """,
    )
    program = module.Clash()
    alarms = {alarm.name for alarm in module.Clash.ALARMS}
    assert {"cycle_time_fault_1", "parameter_fault_1"} <= alarms
    program.x = 30.0
    program.scan(-1.0)  # a cycle time it cannot use
    assert program.cycle_time_fault is True  # the rules' output: 30C > 20C
    assert [(c.alarm, c.raised) for c in program.alarm_changes] == [("cycle_time_fault_1", True)]
    program.limit = 99.0  # outside 0C .. 40C: rejected at the next scan
    program.scan(1.0)
    assert program.limit == 20.0 and program.parameter_fault_1 is True
    assert [(c.alarm, c.raised) for c in program.alarm_changes] == [
        ("cycle_time_fault_1", False),
        ("parameter_fault_1", True),
    ]
