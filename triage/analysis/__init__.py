"""Analyses over a finished timeline: entities that no single artifact holds (devices, ...).

Each analysis reads the case store and writes its own tables; they run after extraction and
before detection, and never change the events or their chain.
"""
from __future__ import annotations

from triage.analysis import devices

ANALYSES = {"devices": devices.analyse}


def run_analyses(db_path: str) -> dict[str, int]:
    """Run every analysis; returns the number of records each wrote."""
    return {name: analyse(db_path) for name, analyse in ANALYSES.items()}
