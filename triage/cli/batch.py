"""`triage score` (one message or a whole file) and `triage rescore-queue`: operator commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from triage.cli.common import Command, emit, errors_to_exit, log, settings
from triage.errors import InputError

if TYPE_CHECKING:
    from triage.batch import BatchOptions, Summary

OnError = Annotated[str, typer.Option(
    "--on-error", envvar="TRIAGE_ON_ERROR",
    help="At a bad row (no text, broken JSON, truncated file): 'stop' or 'skip' it.")]


def _model_dir(model: Path | None) -> Path:
    if model is not None:
        return model
    from triage.models.default import ensure_default_model

    return ensure_default_model(settings(), log)


def parallelism(workers: int, threads: int, cores: int | None = None) -> tuple[int, int]:
    """(inference workers, ONNX threads each): what was asked, the cores shared out otherwise.

    By default one worker per core with one thread each: on small machines, independent
    single-threaded runs beat one multi-threaded run (no thread hand-offs or spin-waits).
    """
    cores = cores or os.cpu_count() or 1
    if workers and threads:
        return workers, threads
    if workers:
        return workers, max(1, cores // workers)
    if threads:
        return max(1, cores // threads), threads
    return cores, 1


@errors_to_exit
def score_cmd(
    file: Annotated[str | None, typer.Argument(
        help="JSONL, CSV or Parquet file (.gz ok) to score; '-' for stdin.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Score one message.")] = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="With --text: the phrases that moved each score most.")] = False,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", envvar="TRIAGE_OUTPUT",
        help="Output file (format from its name; .gz ok); default stdout.")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", envvar="TRIAGE_INPUT_FORMAT",
        help="Input format when the name does not say: jsonl, csv or parquet.")] = None,
    out_format: Annotated[str | None, typer.Option(
        "--out-format", envvar="TRIAGE_OUTPUT_FORMAT",
        help="Output format (default: from -o's name, else the input's).")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue an interrupted run into the same -o file.")] = False,
    on_error: OnError = "stop",
    rejects: Annotated[str | None, typer.Option(
        "--rejects", envvar="TRIAGE_REJECTS",
        help="JSONL file listing skipped rows with line and reason.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", envvar="TRIAGE_ENGINE", help="'local' or 'ray' (Ray Data).")] = "local",
    address: Annotated[str | None, typer.Option(
        "--address", envvar="RAY_ADDRESS",
        help="Ray cluster to use, e.g. ray://head:10001 (default: start a local one).")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", envvar="TRIAGE_BATCH_WORKERS",
        help="Inference threads (local) or model actors (ray); 0: one per core.")] = 0,
    threads: Annotated[int, typer.Option(
        "--threads", envvar="TRIAGE_BATCH_THREADS",
        help="ONNX threads per worker; 0: cores / workers.")] = 0,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", envvar="TRIAGE_BATCH_SIZE",
        help="Messages per ONNX call (length-sorted, dynamic padding).")] = None,
    chunk_rows: Annotated[int, typer.Option(
        "--chunk-rows", envvar="TRIAGE_CHUNK_ROWS",
        help="Rows read, written and checkpointed together.")] = 1024,
    log_every: Annotated[float, typer.Option(
        "--log-every", envvar="TRIAGE_LOG_EVERY",
        help="Seconds between progress lines when stderr is not a terminal.")] = 30.0,
    model: Annotated[Path | None, typer.Option(
        "--model", envvar="TRIAGE_MODEL_DIR", help="Model directory.")] = None,
) -> None:
    """Score one message (--text) or every row of a file, keeping every input field.

    A file's rows come out in input order with a column per head of the model (ours:
    `frustration`, `churn_risk`, `urgency`; a data scientist's model may add e.g.
    `legal_threat`), then `scorable`, `reason` and `model_version`. Progress and the summary go to stderr;
    with -o, the summary is also printed to stdout as JSON.
    """
    if (text is None) == (file is None):
        raise InputError("give either --text MESSAGE or a FILE to score (not both)")
    if explain and text is None:
        raise InputError("--explain works with --text only")
    s = settings()
    size = batch_size or s.batch_size
    if engine not in ("local", "ray"):
        raise InputError(f"--engine is {engine!r}; expected 'local' or 'ray'")
    if text is not None:
        _score_text(text, explain, _model_dir(model), threads or s.threads, size)
        return
    assert file is not None
    from triage.batch import BatchOptions

    if engine == "local":
        workers, threads = parallelism(workers, threads)
    options = BatchOptions(input=file, output=output, in_format=fmt, out_format=out_format,
                           rejects=rejects, on_error=on_error, resume=resume,
                           workers=max(1, workers), chunk_rows=chunk_rows, log_every=log_every)
    if engine == "ray":
        summary = _score_ray(options, _model_dir(model), address, workers, threads, size)
    else:
        summary = _score_local(options, _model_dir(model), threads, size)
    log(summary.text())
    if output not in (None, "-"):
        emit(summary.as_dict())


def _score_text(text: str, explain: bool, model_dir: Path, threads: int, size: int) -> None:
    from triage.assembly import build_scorer

    scorer = build_scorer(settings(), model_dir=model_dir, threads=threads, batch_size=size,
                          preload=False)
    emit(scorer.score_one(text, explain_top=3 if explain else 0).as_dict())


def _score_local(options: BatchOptions, model_dir: Path, threads: int, size: int) -> Summary:
    from triage.assembly import build_scorer
    from triage.batch import score_file

    scorer = build_scorer(settings(), model_dir=model_dir, threads=threads, batch_size=size)
    log(f"scoring {options.input} with model {scorer.version} "
        f"({options.workers} worker(s) x {threads} thread(s), batches of {size})")
    return score_file(options, scorer, log=log)


def _score_ray(options: BatchOptions, model_dir: Path, address: str | None, actors: int,
               threads: int, size: int) -> Summary:
    from triage.batch.ray_engine import RayOptions, score_with_ray

    ray = RayOptions(address=address, actors=actors, threads=threads or 1,
                     batch_size=size, settings=settings())
    return score_with_ray(options, model_dir, ray, log=log)


@errors_to_exit
def rescore_queue_cmd(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Change nothing; report how many tickets would move lanes and "
                          "the largest moves.")] = False,
    everything: Annotated[bool, typer.Option(
        "--all", help="Also re-score tickets the current model already scored.")] = False,
    top: Annotated[int, typer.Option("--top", help="Largest moves to list.")] = 10,
    page: Annotated[int, typer.Option(
        "--page", envvar="TRIAGE_RESCORE_PAGE", help="Tickets per transaction.")] = 200,
    explain_top: Annotated[int | None, typer.Option(
        "--explain-top", help="Phrases per head recomputed per message (0: cleared); "
                              "default TRIAGE_EXPLAIN_TOP.")] = None,
    model: Annotated[Path | None, typer.Option(
        "--model", envvar="TRIAGE_MODEL_DIR", help="Model directory.")] = None,
) -> None:
    """Re-score unresolved tickets in the queue store with the current model.

    Each re-scored ticket gets a score-history row with the new model version and an audit
    entry with its scores, lane and position before and after; positions are recomputed.
    """
    from triage.assembly import build_cases, build_scorer, build_store

    s = settings()
    scorer = build_scorer(s, model_dir=_model_dir(model))
    db = build_store(s, migrate=s.auto_migrate)
    try:
        cases = build_cases(s, db, scorer)
        report = cases.rescore_queue(
            dry_run=dry_run, top=top, log=log, page=page, everything=everything,
            explain_top=s.explain_top if explain_top is None else explain_top)
    finally:
        db.close()
    log(report.text())
    emit(report.as_dict())


def register(app: typer.Typer) -> None:
    app.command("score", cls=Command)(score_cmd)
    app.command("rescore-queue", cls=Command)(rescore_queue_cmd)
