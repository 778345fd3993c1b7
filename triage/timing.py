"""Where a run's time went: wall and CPU seconds per stage.

Why in the product and not only in a profiler: an examiner triaging a large image, and the
benchmark in `bench/`, need to see which stage (opening the image, walking it, hashing, one
artifact family, rules, outputs) dominates, on their own evidence, without re-running under a
profiler. The figures go into the `--json` summary and the case (`case_info.timings`); they are
measurements of this run, never part of any hash.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator


@dataclass
class StageTimes:
    """Accumulated wall / CPU seconds per stage name, in the order stages first ran.

    CPU time is this process's (`time.process_time`); with `--workers N` the extraction stages
    are the sum of the workers' own figures, so their wall time can exceed the run's.
    """

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - wall, time.process_time() - cpu)

    def merge(self, other: dict[str, dict[str, float]]) -> None:
        """Add figures exported by `to_dict` (a worker process's)."""
        for name, figures in other.items():
            self.add(name, figures.get("wall_s", 0.0), figures.get("cpu_s", 0.0))

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {name: {"wall_s": round(self.wall[name], 3), "cpu_s": round(self.cpu[name], 3)}
                for name in self.wall}
