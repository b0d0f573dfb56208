"""`hpdsl fleet verify MANIFEST -o DIR`: every site's trend replayed through its own rules;
`hpdsl fleet generate RULES -o DIR`: a fleet to try it on.

    hpdsl fleet verify fleet.toml -o portfolio/                # in this process
    hpdsl fleet verify fleet.toml -o portfolio/ --workers 2    # on a local Dask cluster
    hpdsl fleet verify fleet.toml -o portfolio/ --scheduler tcp://10.0.0.5:8786

reads the manifest, verifies each site (in process, or on Dask), and writes the portfolio
report into DIR: `portfolio.parquet`, `portfolio.html` and `runs.json`. The report is written
beside DIR first and moved in at the end; DIR is replaced only when it holds nothing but an
earlier fleet report. Exit code 0 when every site was verified and meets its goals, 1 when one
departs from its rules, misses a goal, shows a fault or could not be verified.

    hpdsl fleet generate rules/ -o fleet/ --sites 20 --days 365

simulates the sites `hpdsl.fleet.generate` plans (some with faults, listed in `faults.toml`)
and writes them, with a manifest and a copy of the rules, into a folder beside DIR that
replaces DIR when complete; DIR must be empty, new, or an earlier generated fleet.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from hpdsl.base import progress as progress_
from hpdsl.base.files import UsageError

EXIT_OK = 0
EXIT_FINDINGS = 1
MARKER = ".hpdsl-fleet"
GENERATED = ".hpdsl-fleet-data"  # in a folder `fleet generate` wrote, which it may replace
OUTPUTS = (MARKER, "portfolio.parquet", "portfolio.html", "runs.json")


def run(args: argparse.Namespace) -> int:
    if args.action == "generate":
        return generate(args)
    return verify(args)


def generate(args: argparse.Namespace) -> int:
    """`hpdsl fleet generate RULES -o DIR`: a fleet simulated, written beside DIR and moved in whole."""
    from hpdsl.fleet import generate as generate_

    _require_fleet(distributed=False)
    if not 1 <= args.sites <= 10_000:
        raise UsageError(f"--sites {args.sites}: choose between 1 and 10,000")
    if not 1.0 <= args.days <= 3660.0:
        raise UsageError(f"--days {args.days:g}: choose between 1 and 3660 (ten years)")
    if not args.rules.exists():
        raise UsageError(f"no rules at `{args.rules}`")
    output: Path = args.output
    _check_output(output, False, GENERATED)  # it replaces the whole folder: only an earlier fleet
    sites = generate_.plan(args.sites, args.days, args.seed)
    progress = progress_.Progress("fleet generate", progress_.wanted(quiet=args.quiet))
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".hpdsl-fleet-") as staging:
        folder = Path(staging) / "fleet"
        folder.mkdir()
        (folder / GENERATED).write_text("written by hpdsl fleet generate\n", encoding="utf-8")
        _copy_rules(args.rules, folder / "rules")
        with progress.phase(
            f"simulating {len(sites)} sites of {args.days:g} days", total=len(sites), unit="sites"
        ) as step:
            try:
                generate_.generate(
                    folder / "rules", folder, sites, args.days, on_site=lambda site: step.advance()
                )
            except generate_.GenerateError as exc:
                raise UsageError(str(exc)) from None
        if output.exists():
            old = Path(staging) / "old"
            output.rename(old)
        folder.rename(output)
    faulty = sum(1 for site in sites if site.faults)
    faults = sum(len(site.faults) for site in sites)
    sys.stdout.write(
        f"wrote {len(sites)} sites to {output}: {faulty} with {faults} faults (listed in faults.toml),"
        f" {len(sites) - faulty} healthy\n"
        f"verify them with: hpdsl fleet verify {output / 'fleet.toml'} -o <report folder>\n"
    )
    return EXIT_OK


def _copy_rules(rules: Path, into: Path) -> None:
    """The rules files (not their scenarios) as they are now, so that the fleet does not change with them."""
    import shutil

    if rules.is_file():
        into.mkdir(parents=True)
        shutil.copy2(rules, into / rules.name)
        return
    for path in sorted(rules.rglob("*.rules")):
        target = into / path.relative_to(rules)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def verify(args: argparse.Namespace) -> int:
    """`hpdsl fleet verify MANIFEST -o DIR`."""
    _require_fleet(distributed=args.workers is not None or args.scheduler is not None)
    from hpdsl.base.render import report
    from hpdsl.fleet import engine, manifest, portfolio

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers: give at least 1")
    if args.workers is not None and args.scheduler is not None:
        raise UsageError("give --workers (a local cluster) or --scheduler (a running one), not both")
    output: Path = args.output
    _check_output(output, args.force, MARKER)
    found = manifest.read(args.manifest)
    if found.diagnostics:
        sources = {found.source.name: found.source} if found.source is not None else {}
        report(found.diagnostics, sources, sys.stderr)
    if not found.ok:
        return EXIT_FINDINGS
    if args.replay == "native":
        from hpdsl.sim import native

        reason = native.unavailable()
        if reason:
            raise UsageError(f"--replay native: {reason}")
    how = engine.Engine(args.workers or 0, args.scheduler, args.replay, args.partition)
    progress = progress_.Progress("fleet verify", progress_.wanted(quiet=args.quiet))
    with progress.phase(
        "compiling the rules" + ("" if args.replay == "python" else " (and building them natively)")
    ):
        replays = engine.prepare(found.sites, how)
    for rules, replay in replays.items():
        if replay != "native" and args.replay != "python":
            sys.stderr.write(
                f"hpdsl fleet verify: {rules} replays interpreted: {replay.removeprefix('python ')}\n"
            )
    with progress.phase(
        f"verifying {len(found.sites)} sites on {how.describe()}", total=len(found.sites), unit="sites"
    ) as step:
        runs = engine.run_sites(found.sites, how, on_done=lambda run: step.advance())
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".hpdsl-fleet-") as staging:
        folder = Path(staging)
        (folder / MARKER).write_text("written by hpdsl fleet verify\n", encoding="utf-8")
        portfolio.write(folder, found.name, runs)
        output.mkdir(exist_ok=True)
        for name in OUTPUTS:
            (output / name).unlink(missing_ok=True)
        for entry in sorted(folder.iterdir()):
            entry.rename(output / entry.name)
    results = portfolio.ranked([run.result for run in runs])
    for result in results:
        kinds = f", faults: {', '.join(f.kind for f in result.findings)}" if result.findings else ""
        state = result.error or (
            f"shortfall {result.shortfall:.3f}, {len(result.departures)} departure group(s){kinds}"
            if result.shortfall
            else "meets its goals"
        )
        sys.stdout.write(f"{result.site}: {state}\n")
    sys.stdout.write(f"wrote {', '.join(OUTPUTS[1:])} to {output}\n")
    return EXIT_FINDINGS if any(r.shortfall for r in results) else EXIT_OK


def _require_fleet(distributed: bool) -> None:
    """UsageError naming the install command when a library the fleet needs is missing."""
    import importlib

    for name in ("numpy", "pyarrow", "pyfunnel", *(("dask.distributed",) if distributed else ())):
        try:
            importlib.import_module(name)
        except ImportError:
            raise UsageError(
                f"fleet verify needs the fleet extras ({name} is missing): pip install 'hpdsl[fleet]'"
            ) from None


def _check_output(output: Path, force: bool, marker: str) -> None:
    if output.exists() and not output.is_dir():
        raise UsageError(f"`{output}` exists and is not a folder")
    if force or not output.exists() or not any(output.iterdir()) or (output / marker).exists():
        return
    what = "fleet report" if marker == MARKER else "generated fleet"
    raise UsageError(
        f"will not write into `{output}`: it is not empty and holds no earlier {what}"
        " (use --force to write into it)"
    )
