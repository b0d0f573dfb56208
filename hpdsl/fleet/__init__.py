"""`hpdsl fleet`: a portfolio of sites, each with a year of trends, verified on Dask.

May import: hpdsl.base, hpdsl.compile, hpdsl.sim (the compiled package, `verify`), and the
fleet extras (dask.distributed, fsspec), which only `engine` and `site` import.

- `manifest`: the sites, each with its rules, site file and trend (a path or an fsspec URL);
- `site`: one site verified, with the figures of its goals (the unit of work);
- `findings`: the faults a site's trend shows over months (stuck aux stage, drifting sensor,
  fouled coil);
- `generate`: a made-up fleet, simulated with injected faults, for tests and benchmarks;
- `engine`: the sites run in this process or on a Dask cluster, retried, in a stable order;
- `portfolio`: the report, every site ranked by how far it falls from its goals;
- `command`: the command line.
"""
