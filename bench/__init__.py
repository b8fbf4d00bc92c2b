"""Benchmark scripts for `triage` (not part of the installed package); see docs/benchmarks.md.

Run them as modules from the repository root, e.g. `python -m bench.scoring`, or as scripts
(`python bench/scoring.py`): each script puts the repository root first on `sys.path` (and
drops its own folder) so that `from bench import common` works either way. No script is
named after a standard-library module (`http_load.py`, `queue_claims.py`), so none can
shadow one.
"""
