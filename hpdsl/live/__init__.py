"""`hpdsl run`: the compiled rules as a live controller.

May import: hpdsl.base, hpdsl.language, hpdsl.compile, hpdsl.codegen, hpdsl.sim, and the
runtime extras (pymodbus, bacpypes3), which only the modules of a protocol import.

- `points`: the points file, checked against the package (units, registers, objects, required
  inputs);
- `field`: the latest readings and their faults, shared by every device link;
- `modbus`: Modbus TCP devices; `plant`: the built-in plant model as the field;
- `eventlog`: the event log on disk; `controller`: the scan loop.
"""
