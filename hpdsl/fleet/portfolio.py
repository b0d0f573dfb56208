"""The portfolio report of `hpdsl fleet verify`: every site ranked by how far it falls from its goals.

Written into the output folder:

- `portfolio.parquet`: one row a site, in rank order: its goals' figures (seasonal COP, nominal
  COP and their ratio, the Q5 and Q6 fractions), its departures from the rules and their causes,
  its findings (`findings`: the faults seen, `fault_kinds` their kinds), its alarm counts, its
  shortfall (`SiteResult.shortfall`) and its rank;
- `portfolio.html`: the same as a table, with a plot of each site against the COP, Q5 and Q6
  goals, in one self-contained page;
- `runs.json`: how long each site took, on which engine and after how many attempts (the only
  file that differs from one run to the next).

Every byte of the first two depends only on the manifest's sites and their files: the same
fleet gives the same report whatever the number of workers.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from hpdsl.fleet.site import COP_ALERT, Q5_GOAL, Q6_GOAL, Run, SiteResult

PARQUET = "portfolio.parquet"
HTML = "portfolio.html"
RUNS = "runs.json"


def ranked(results: list[SiteResult]) -> list[SiteResult]:
    """Worst first: the largest shortfall, then the site id."""
    return sorted(results, key=lambda r: (-r.shortfall, r.site))


def _row(result: SiteResult, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "site": result.site,
        "error": result.error,
        "shortfall": None if math.isinf(result.shortfall) else round(result.shortfall, 6),
        "seasonal_cop": result.seasonal_cop,
        "nominal_cop": result.nominal_cop,
        "cop_ratio": None if result.cop_ratio is None else round(result.cop_ratio, 6),
        "q5_fraction": result.q5_fraction,
        "q6_fraction": result.q6_fraction,
        "departure_groups": len(result.departures),
        "departed_points": result.departed_points,
        "departures": "; ".join(f"{d.first_point} from {d.first_time}: {d.cause}" for d in result.departures),
        "fault_kinds": ", ".join(sorted({f.kind for f in result.findings})),
        "findings": "; ".join(f.describe() for f in result.findings),
        "alarms_raised": sum(count for _, count in result.alarms),
        "alarms": "; ".join(f"{name} x{count}" for name, count in result.alarms),
        "rows": result.rows,
        "start": result.start,
        "end": result.end,
    }


def write(folder: Path, title: str, runs: list[Run]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    results = ranked([run.result for run in runs])
    rows = [_row(result, rank) for rank, result in enumerate(results, start=1)]
    schema = pa.schema(
        [
            ("rank", pa.int64()),
            ("site", pa.string()),
            ("error", pa.string()),
            ("shortfall", pa.float64()),
            ("seasonal_cop", pa.float64()),
            ("nominal_cop", pa.float64()),
            ("cop_ratio", pa.float64()),
            ("q5_fraction", pa.float64()),
            ("q6_fraction", pa.float64()),
            ("departure_groups", pa.int64()),
            ("departed_points", pa.int64()),
            ("departures", pa.string()),
            ("fault_kinds", pa.string()),
            ("findings", pa.string()),
            ("alarms_raised", pa.int64()),
            ("alarms", pa.string()),
            ("rows", pa.int64()),
            ("start", pa.string()),
            ("end", pa.string()),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, folder / PARQUET, compression="zstd")
    (folder / HTML).write_text(_html(title, rows, results), encoding="utf-8")
    timing = [
        {
            "site": run.result.site,
            "seconds": round(run.seconds, 3),
            "attempts": run.attempts,
            "engine": run.worker,
            "replay": run.replay,
        }
        for run in sorted(runs, key=lambda r: r.result.site)
    ]
    (folder / RUNS).write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _html(title: str, rows: list[dict[str, Any]], results: list[SiteResult]) -> str:
    columns = [
        ("rank", "#"),
        ("site", "site"),
        ("shortfall", "shortfall"),
        ("cop_ratio", f"COP / nominal (goal ≥ {COP_ALERT})"),
        ("seasonal_cop", "seasonal COP"),
        ("q5_fraction", f"Q5 (goal ≥ {Q5_GOAL})"),
        ("q6_fraction", f"Q6 (goal ≥ {Q6_GOAL})"),
        ("departure_groups", "departures"),
        ("fault_kinds", "faults found"),
        ("alarms_raised", "alarms"),
        ("error", "error"),
    ]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_cell(row[key])}</td>" for key, _ in columns) + "</tr>" for row in rows
    )
    details = "\n".join(
        f"<h3>{html.escape(row['site'])}</h3>"
        f"<p>{html.escape(row['departures'] or 'no departure from the rules')}</p>"
        f"<p>{html.escape(row['findings'] or 'no fault found')}</p>"
        f"<p>{html.escape(row['alarms'] or 'no alarm raised')}</p>"
        for row in rows
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 80rem; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; }}
th {{ background: #f3f3f3; }} img {{ max-width: 100%; }} td:nth-child(2) {{ white-space: nowrap; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{len(rows)} sites, worst first: each goal counts its shortfall as a share of the goal, each group of
departures from the rules and each fault found counts 1, a site that could not be verified comes first.</p>
<img alt="each site against its goals" src="data:image/png;base64,{_plot(results)}">
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
<h2>Sites</h2>
{details}
</body></html>
"""


def _plot(results: list[SiteResult]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.site for r in results]
    figure, axes = plt.subplots(1, 3, figsize=(12, max(2.5, 0.35 * len(names) + 1)), sharey=True)
    for ax, values, goal, label in (
        (axes[0], [r.cop_ratio for r in results], COP_ALERT, "seasonal COP / nominal"),
        (axes[1], [r.q5_fraction for r in results], Q5_GOAL, "Q5: supply within its band"),
        (axes[2], [r.q6_fraction for r in results], Q6_GOAL, "Q6: zone at its setpoint"),
    ):
        shown = [math.nan if v is None else v for v in values]
        colours = ["#c0392b" if (v is not None and v < goal) else "#2e86c1" for v in values]
        ax.barh(range(len(names)), shown, color=colours)
        ax.axvline(goal, color="black", linestyle="--", linewidth=1)
        ax.set_title(label, fontsize=10)
    axes[0].set_yticks(range(len(names)), names)
    axes[0].invert_yaxis()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
