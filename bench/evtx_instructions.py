"""Run the EVTX extractor over the parsers bench's log and stop after N events: a fixed
amount of work to count in instructions under valgrind, which, unlike timings on a shared
machine, does not move with the load. Per event: the difference of two N, divided.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/evtx_instructions.py default 30000   # and 10000
(an older build: PYTHONPATH=/path/to/its/worktree, run from outside the project folder)
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from triage.extractors import ExtractionContext
from triage.extractors.evtx import EvtxExtractor
from triage.files import LocalFile

from parsers_bench import tune_gc

LOG = Path(__file__).resolve().parent / "work" / "parsers" / "bench-100000.evtx"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("default", "all"), help="catalogue only, or --evtx-all")
    ap.add_argument("events", type=int, help="stop after this many events")
    ap.add_argument("--log", type=Path, default=LOG, help="built by parsers_bench.py --only evtx")
    args = ap.parse_args()
    tune_gc()  # as `triage run` does
    ctx = ExtractionContext(options={"evtx_all": args.mode == "all"})
    events = EvtxExtractor().extract(LocalFile(str(args.log), path="/bench.evtx"), ctx)
    print(sum(1 for _ in itertools.islice(events, args.events)))


if __name__ == "__main__":
    main()
