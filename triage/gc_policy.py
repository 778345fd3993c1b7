"""The cyclic garbage collector's settings for an extraction.

Why: an extraction makes several short-lived containers for every record it reads (the
record's values, its event's data dict, tuples) and next to no reference cycles, so
reference counting frees almost all of them. CPython's cyclic collector nevertheless walks
the young containers after every 700 allocations, and the whole heap (every imported module,
dfVFS's and the artifact catalogues' objects) again and again as it grows: on the 1-million
record bench image it spent 2.7 % of the run's CPU time and found next to nothing (measured
with gc.callbacks; bench/README.md "Session 7"). Freezing what start-up made (it lives until the
process ends anyway) and collecting young containers every 50,000 allocations instead keeps
the collector for what it is for, cycles, at a fraction of the cost. Cycles are still
collected; they only wait a little longer (at most 50,000 containers: about ten MiB).
"""
from __future__ import annotations

import gc

# allocations between collections of the youngest generation (CPython's default: 700); the
# older generations keep CPython's own ratios to it
YOUNG_THRESHOLD = 50_000

_applied = False


def tune_for_extraction() -> None:
    """Set the collector up for a long extraction, once per process (later calls do nothing:
    a second freeze would keep for good whatever an earlier run left in reference cycles).
    Call it before a run opens its evidence: frozen objects are never collected."""
    global _applied
    if _applied:
        return
    _applied = True
    gc.collect()  # what start-up left as garbage goes now, not into the frozen generation
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
