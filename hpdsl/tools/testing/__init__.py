"""Scenario tests and traceability: `scenario` parses `.scenario` files, `runner` runs them on the
compiled package (`hpdsl test`), `trace` maps requirements to the rules and scenarios citing
them (`hpdsl trace`), `matiec` builds the `iec` output with MATIEC and runs it in place of the
Python target (`hpdsl test --plc`).

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile, hpdsl.codegen.
"""
