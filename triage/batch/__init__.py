"""Batch triage for a lab: many images, one case folder each, one lab index, shared findings.

- `manifest`: the evidence list (CSV or YAML manifest, or every image in a folder);
- `runner`: one engine run per image in worker processes (`--jobs N`), statuses, resume;
- `lab`: `lab.sqlite` / `lab.jsonl`, and what several images have in common (`lab_findings`);
- `dask_runner`: the same tasks on a Dask cluster (`--scheduler`; optional `cluster` extra).

Dask is never imported unless a scheduler is given.
"""
from __future__ import annotations

from triage.batch.runner import BatchOptions, BatchResult, run_batch, run_image

__all__ = ["BatchOptions", "BatchResult", "run_batch", "run_image"]
