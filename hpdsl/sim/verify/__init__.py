"""`hpdsl verify`: compare a trend log recorded on a controller with what the rules would have done.

This is the verification method of the OpenBuildingControl project: the sequence as specified
(here, the compiled rules) is run on the inputs the real controller saw, and each of its
outputs is compared with what the controller did, allowing a tolerance in value and in time.
The tolerances form a funnel around the reference (the replay); the controller departed from
the rules where its recording leaves the funnel. pyfunnel, the project's reference
implementation, builds the funnel and measures the departures.

The stages, one module each, in the order the data flows:

- `trendfile`: the CSV or Parquet file, read in batches, tolerating what real logs do (empty
  cells, unit annotations, a second header row of units, rows out of order or repeated);
- `recording`: its columns matched to the package's points and converted to their units;
- `replay`: the field inputs run through the compiled rules, stretch by stretch;
- `compare`: each point against the replay, with pyfunnel where it comes near its tolerance;
- `causes`: departures grouped, and the parameter or rule that explains each group;
- `report` and `command`: what is printed and written, and the command line.

A year of one-minute rows is streamed: memory does not grow with the length of the log.

May import: hpdsl.sim.loaded and what its modules name; nothing imports it but the CLI and tools.
"""

from hpdsl.sim.verify.command import run
from hpdsl.sim.verify.compare import verify
from hpdsl.sim.verify.results import PointResult, Report, Settings
from hpdsl.sim.verify.trendfile import TrendFileError, read_trend

__all__ = ["PointResult", "Report", "Settings", "TrendFileError", "read_trend", "run", "verify"]
