"""Fuzzing harness for every parser of triage (README.md, "Fuzzing"): targets.py is the table,
seeds.py the seed files, mutators.py the mutations, harness.py the property, run_fuzz.py the
long run; tests/test_fuzz_parsers.py is the CI part."""
