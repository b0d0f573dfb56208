"""The fuzz suite (tests/fuzz.py) on every test run: a few thousand generated and broken rules,
scenario, site and trend inputs, with a fixed seed, bounded in time. Not one may end in an
internal error, a hang or generated code that runs the input's text."""

from __future__ import annotations

import os

import fuzz

# Cases of each kind on every run; `HPDSL_FUZZ_CASES` raises it (a nightly job runs 20,000 and more,
# or `python tests/fuzz.py --seconds 3600`).
CASES = {"rules": 900, "scenario": 500, "site": 500, "trend": 300}


def test_no_input_causes_an_internal_error_a_hang_or_an_injection() -> None:
    scale = int(os.environ.get("HPDSL_FUZZ_CASES", "0"))
    cases = {kind: scale or count for kind, count in CASES.items()}
    seed = int(os.environ.get("HPDSL_FUZZ_SEED", "2026"))
    outcome = fuzz.run(cases, seed)
    shown = "\n".join(f"{kind}: {what}\n{text!r}" for kind, what, text in outcome.failures[:3])
    assert not outcome.failures, shown
    assert outcome.cases == cases
    # The generators reach past the parsers: many inputs are read without an error, and rules
    # that check clean go through every target.
    assert outcome.accepted["rules"] > cases["rules"] // 4
    assert outcome.accepted["scenario"] > cases["scenario"] // 6
    assert outcome.accepted["site"] > 0 and outcome.accepted["trend"] > 0
    assert outcome.compiled > 20
