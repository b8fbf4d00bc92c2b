"""Benchmark scripts for `triage` (not part of the installed package); see docs/benchmarks.md.

Run them as modules from the repository root, e.g. `python -m bench.scoring`, or as scripts
(`python bench/scoring.py`): each script drops its own folder from `sys.path` first so that
`bench/http.py` and `bench/queue.py` never shadow the standard library's `http` and `queue`.
"""
