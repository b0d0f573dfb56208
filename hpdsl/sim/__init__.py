"""Running the rules against the world: closed-loop simulation of a rules package (plant model,
weather, the BAS around the controller), its trend, KPIs, plots and report, and the
verification of a trend recorded on a controller (`verify`).

Data flow: rules -> hpdsl.codegen.compiler (Python target) -> `loaded` -> `run` with `plant` and
`weather` -> `trend` -> `kpi` and `report`; a recorded trend -> `verify`.
May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile, hpdsl.codegen; not hpdsl.tools.
"""
