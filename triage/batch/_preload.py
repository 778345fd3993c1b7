"""Imported once by the forkserver of a local batch: every worker forked from it starts with
triage, its extractors, definitions and rules already loaded (see runner.run_local)."""
from triage.batch.runner import warm_up

warm_up()
