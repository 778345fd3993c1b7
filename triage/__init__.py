"""triage: forensic evidence triage, from a seized disk image to a hashed, verifiable timeline."""

__version__ = "0.1.0"
