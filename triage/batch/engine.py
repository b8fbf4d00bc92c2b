"""The local batch engine: score a file of any size on this machine, resumably.

`score_file(options, scorer)` reads the input in chunks (reader thread: parse, validate,
language gate, tokenize), runs inference on worker threads (one shared ONNX session,
length-sorted micro-batches with dynamic padding), and writes the chunks back in input
order, checkpointing after each one (see `journal`). Output goes to `<out>.part` and is
renamed into place only when complete.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from triage.errors import InputError, RecordError
from triage.records import detect_format
from triage.scoring import Scorer

from .journal import Journal
from .pipeline import Pipeline
from .progress import Progress, Summary, estimate_rows
from .rows import Chunk, chunked, read_items, short_reason
from .sinks import RowEncoder, Sink, TextSink, open_sink
from .stages import Result, encode_chunk, infer

Log = Callable[[str], None]
ON_ERROR = ("stop", "skip")
SHOWN_SKIPS = 10


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _named_format(path: str) -> str | None:
    try:
        return detect_format(path)
    except RecordError:
        return None


@dataclass
class BatchOptions:
    """What to score and how.

    Args:
        input: a JSONL/CSV/Parquet file (`.gz` for JSONL/CSV), or `-` for stdin.
        output: the output file, or None / `-` for stdout.
        in_format: the input's format when its name does not say (always for stdin).
        out_format: the output's format; default from its name, else the input's format.
        rejects: a JSONL file for rows skipped with `on_error="skip"`.
        on_error: "stop" at the first bad row (default) or "skip" it and go on.
        resume: continue an interrupted run into the same output.
        workers: inference threads sharing the one ONNX session.
        chunk_rows: rows per chunk (the unit of reading, writing and resuming).
        log_every: seconds between progress lines when stderr is not a terminal.
    """

    input: str
    output: str | None = None
    in_format: str | None = None
    out_format: str | None = None
    rejects: str | None = None
    on_error: str = "stop"
    resume: bool = False
    workers: int = 1
    chunk_rows: int = 1024
    log_every: float = 30.0

    def formats(self) -> tuple[str, str]:
        """(input format, output format)."""
        fmt_in = detect_format(self.input, self.in_format)
        if self.out_format:
            return fmt_in, detect_format("-", self.out_format)
        if self.output in (None, "-"):
            return fmt_in, fmt_in if fmt_in != "parquet" else "jsonl"
        assert self.output is not None
        if self.output.endswith("/"):  # a directory of shards (Ray engine)
            return fmt_in, _named_format(self.output.rstrip("/")) or fmt_in
        return fmt_in, detect_format(self.output, None, option="--out-format")

    def check(self) -> None:
        if self.on_error not in ON_ERROR:
            raise InputError(f"--on-error is {self.on_error!r}; expected 'stop' or 'skip'")
        if self.chunk_rows < 1 or self.workers < 1:
            raise InputError("chunk rows and workers must be at least 1")
        if self.resume and self.output in (None, "-"):
            raise InputError("--resume needs an output file (-o FILE): stdout cannot be resumed")
        if self.rejects and _named_format(self.rejects) not in (None, "jsonl"):
            raise InputError("rejects are written as JSONL; name the file .jsonl or .jsonl.gz")
        if self.rejects and self.output not in (None, "-") and \
                Path(self.rejects).resolve() == Path(self.output).resolve():
            raise InputError("--rejects must differ from the output file")


class Run:
    """One execution of a batch job: its sinks, journal, counters and progress."""

    def __init__(self, options: BatchOptions, scorer: Scorer, log: Log) -> None:
        options.check()
        if options.input != "-" and not Path(options.input).is_file():
            raise RecordError(f"file not found: {options.input}; check the path")
        self.options, self.scorer, self.log = options, scorer, log
        self.fmt_in, self.fmt_out = options.formats()
        self.to_file = options.output not in (None, "-")
        self.output = Path(options.output) if self.to_file else None  # type: ignore[arg-type]
        self.journal = Journal(
            input=str(options.input), out_format=self.fmt_out, rejects=options.rejects,
            chunk_rows=options.chunk_rows, on_error=options.on_error,
            model_version=scorer.version)
        self.counts: Counter[str] = Counter()
        self.skips_shown = 0
        fresh = not self._resume_point()
        self.sink: Sink = open_sink(options.output, self.fmt_out, fresh=fresh,
                                    heads=scorer.heads)
        self.rejects = self._rejects_sink(fresh)
        if not fresh:
            self.sink.restore(self.journal.output_state)
            if self.rejects is not None:
                self.rejects.restore(self.journal.rejects_state)

    def _resume_point(self) -> bool:
        """Adopt an interrupted run's journal when resuming; True if there is one."""
        if self.output is None:
            return False
        previous = Journal.load(self.output)
        if previous is None:
            if self.options.resume:
                self.log(f"no interrupted run to resume at {self.output}; starting from the top")
            return False
        if not self.options.resume:
            self.log(f"discarding the interrupted run at {self.output}.part "
                     "(pass --resume to continue it instead)")
            return False
        previous.check_same_run(self.journal)
        self.journal = previous
        self.counts.update(previous.counts)
        self.log(f"resuming after {previous.rows:,} rows ({previous.chunks} chunks)")
        return True

    def _rejects_sink(self, fresh: bool) -> TextSink | None:
        if not self.options.rejects:
            return None
        path = Path(self.options.rejects)
        return TextSink(path, RowEncoder("jsonl"), gz=path.suffix == ".gz", fresh=fresh)

    def chunks(self) -> Iterator[Chunk]:
        """The input's chunks after the ones the journal says are done (checked by digest)."""
        stream = chunked(read_items(self.options.input, self.fmt_in), self.options.chunk_rows)
        done = self.journal.chunks
        last = None
        for _ in range(done):
            last = next(stream, None)
            if last is None:
                break
        if done and (last is None or last.digest != self.journal.digest):
            raise InputError(
                f"cannot resume: the first {self.journal.rows:,} rows of {self.options.input} "
                "differ from the ones the interrupted run scored; run without --resume")
        stop = self.options.on_error == "stop"
        for chunk in stream:
            yield encode_chunk(chunk, self.scorer, stop_on_error=stop,
                               source=str(self.options.input))

    def execute(self) -> Summary:
        started = time.monotonic()
        progress = Progress(estimate_rows(self.options.input, self.fmt_in),
                            done=self.journal.rows, log_every=self.options.log_every)
        pipeline = Pipeline(self.chunks, lambda c: infer(c, self.scorer),
                            workers=self.options.workers)
        try:
            if self.journal.status != "finalizing":
                for result in pipeline:
                    self._commit(result, started)
                    progress.update(len(result.chunk.items))
            progress.close()
            self._publish(started)
        except RecordError as exc:
            progress.close()
            self._explain_stop(exc)
            raise
        except KeyboardInterrupt:
            progress.close()
            self._explain_interrupt()
            raise
        finally:
            progress.close()
            self._close()
        return self.summary(self.journal.elapsed)

    def _close(self) -> None:
        """Close the sinks; drop their files when no chunk was checkpointed (nothing to resume)."""
        sinks = [self.sink] + ([self.rejects] if self.rejects is not None else [])
        nothing = self.journal.chunks == 0 and self.output is not None \
            and not Journal.path_for(self.output).exists()
        for sink in sinks:
            if nothing:
                sink.discard()
            else:
                sink.close()

    def _commit(self, result: Result, started: float) -> None:
        self.sink.write(result.rows)
        if self.rejects is not None:
            self.rejects.write(result.rejects)
        self._show_skips(result)
        self.counts.update(result.counts)
        chunk = result.chunk
        self.journal.chunks, self.journal.rows, self.journal.digest = \
            chunk.seq + 1, chunk.rows_end, chunk.digest
        self._save_journal(started)

    def _save_journal(self, started: float, status: str = "running") -> None:
        if self.output is None:
            return
        self.journal.output_state = self.sink.commit()
        self.journal.rejects_state = self.rejects.commit() if self.rejects else None
        self.journal.counts = dict(self.counts)
        self.journal.status = status
        elapsed = self.journal.elapsed
        self.journal.elapsed = elapsed + time.monotonic() - started
        self.journal.save(self.output)
        self.journal.elapsed = elapsed

    def _publish(self, started: float) -> None:
        self._save_journal(started, status="finalizing")
        self.journal.elapsed += time.monotonic() - started
        if self.rejects is not None:
            self.rejects.publish()
        self.sink.publish()
        if self.output is not None:
            Journal.remove(self.output)

    def _show_skips(self, result: Result) -> None:
        for reject in result.rejects:
            self.skips_shown += 1
            if self.skips_shown <= SHOWN_SKIPS:
                self.log(f"skipped line {reject['line']}: {reject['reason']}")
            elif self.skips_shown == SHOWN_SKIPS + 1:
                self.log("more rows skipped; the summary counts them"
                         + (f", {self.options.rejects} lists them" if self.options.rejects else ""))

    def _explain_stop(self, exc: RecordError) -> None:
        if exc.whole_file:  # nothing to skip to or resume from: only fixing the file helps
            self.log(f"stopped: nothing in {self.options.input} could be read "
                     f"({short_reason(exc)}). {_sentence(exc.hint or 'fix the file')}")
            return
        if exc.hint:
            self.log(f"stopped at line {exc.line} ({short_reason(exc)}). "
                     f"{_sentence(exc.hint)}")
            return
        where = f"line {exc.line}" if exc.line else "the damaged part"
        hint = f"stopped at {where} ({short_reason(exc)}). Fix the input, or pass --on-error skip"
        if self.output is not None:
            hint += (f"; the first {self.journal.rows:,} rows are scored and kept: rerun with "
                     "--resume to continue from there")
        self.log(hint)

    def _explain_interrupt(self) -> None:
        if self.output is not None:
            self.log(f"interrupted after {self.journal.rows:,} rows; rerun the same command "
                     "with --resume to continue")

    def summary(self, elapsed: float) -> Summary:
        return Summary(rows=self.journal.rows, counts=self.counts, elapsed=elapsed,
                       output=str(self.options.output or "-"), rejects=self.options.rejects)


def score_file(options: BatchOptions, scorer: Scorer, *, log: Log | None = None) -> Summary:
    """Score every row of `options.input` into `options.output`; see `BatchOptions`."""
    run = Run(options, scorer, log or (lambda _: None))
    return run.execute()
