"""Registry plugins, one module per kind of evidence (see triage/registry/__init__.py)."""
