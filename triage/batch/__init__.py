"""Backlog scoring: stream a file of any size through the model, on one machine or on Ray.

    from triage.batch import BatchOptions, score_file
    summary = score_file(BatchOptions("backlog.jsonl.gz", "scored.parquet"), scorer)

The local engine (`engine`) reads, scores and writes in chunks with bounded memory, keeps
input order, checkpoints after every chunk so `resume=True` continues an interrupted run,
and publishes its output atomically. The Ray engine (`ray_engine`) runs the same scoring on
a Ray cluster with Ray Data.
"""

from triage.batch.engine import BatchOptions, score_file
from triage.batch.progress import Summary

__all__ = ["BatchOptions", "Summary", "score_file"]
