"""The Ray Data engine: the same scoring as the local engine, spread over a Ray cluster.

    read (RowsDatasource: JSONL, CSV, Parquet)  ->  map_batches(ScoreActor, actor pool:
    one ONNX session per actor)  ->  write (EncodedDatasink / SegmentDatasink)

Each actor receives the model's files through the object store (no shared model directory
needed), scores chunks of `chunk_rows` rows with the local engine's own stages (same gate,
same rounding, same output encoding) and reports counts and rejected rows to a `Tally`
actor that the driver drains for progress and the rejects file.

`-o out.jsonl` (a file name on a local or shared path): the shards are written under
`out.jsonl.parts/` and joined, in order, into `out.jsonl`, renamed into place when done.
`-o dir/` or a URI (`s3://bucket/prefix/`): the shards are the output, one file per task.
Not supported here: `--resume` (rerun instead; Ray retries failed tasks itself) and stdin.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.errors import InputError, TriageError
from triage.models.manifest import MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, load_manifest
from triage.settings import Settings

from .engine import BatchOptions
from .progress import Progress, Summary, estimate_rows
from .sinks import RowEncoder, TextSink, column_order

Log = Callable[[str], None]


@dataclass
class RayOptions:
    """How to run on Ray.

    Args:
        address: the cluster (`ray://head:10001`, `auto`); None starts a local instance
            unless one is already running in this process or RAY_ADDRESS names one.
        actors: scoring actors (0: one per `threads` CPUs of the cluster).
        threads: ONNX threads (and CPUs reserved) per actor.
        batch_size: messages per ONNX call.
        settings: what each actor builds its scorer from (`triage.assembly.build_scorer`).
    """

    address: str | None = None
    actors: int = 0
    threads: int = 1
    batch_size: int = 32
    settings: Settings = field(default_factory=Settings)


def import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise InputError("--engine ray needs Ray Data: pip install 'triage[ray]'") from exc
    return ray


def model_files(model_dir: Path) -> dict[str, bytes]:
    """The files a model directory needs to be served (what the manifest lists, and itself)."""
    import json

    manifest = json.loads((model_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    names = {MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, *manifest.get("files", {})}
    return {name: (model_dir / name).read_bytes() for name in sorted(names)
            if (model_dir / name).is_file()}


def unpack_model(files: dict[str, bytes]) -> Path:
    """The model's files in a directory on this node, one per model (shared by actors)."""
    import hashlib

    digest = hashlib.sha256(files[MANIFEST_FILE]).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / "triage-ray-models" / digest
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=target.parent))
        for name, data in files.items():
            (temp / name).write_bytes(data)
        try:
            os.rename(temp, target)
        except OSError:  # another actor on this node got there first
            shutil.rmtree(temp, ignore_errors=True)
    return target


class Tally:
    """Hands the model's files to the actors; gathers their counts and rejected rows."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.counts: Counter[str] = Counter()
        self.rows = 0
        self.rejects: list[dict[str, Any]] = []
        self.failure: tuple[str, str] | None = None

    def model(self) -> dict[str, bytes]:
        return self.files

    def fail(self, kind: str, message: str) -> None:
        """Remember the first error an actor stopped on (Ray keeps only its traceback text)."""
        self.failure = self.failure or (kind, message)

    def first_failure(self) -> tuple[str, str] | None:
        return self.failure

    def add(self, rows: int, counts: dict[str, int], rejects: list[dict[str, Any]]) -> None:
        self.rows += rows
        self.counts.update(counts)
        self.rejects.extend(rejects)

    def drain(self) -> tuple[int, dict[str, int], list[dict[str, Any]]]:
        rejects, self.rejects = self.rejects, []
        return self.rows, dict(self.counts), rejects


class ScoreActor:
    """One ONNX session per actor; scores a batch with the local engine's stages."""

    def __init__(self, tally: Any, options: dict[str, Any]) -> None:
        import ray

        from triage.assembly import build_scorer

        self.dir = unpack_model(ray.get(tally.model.remote()))
        self.scorer = build_scorer(options["settings"], model_dir=self.dir,
                                   threads=options["threads"],
                                   batch_size=options["batch_size"])
        self.tally, self.options = tally, options

    def __call__(self, table: Any) -> Any:
        import pyarrow as pa
        import ray

        from .ray_io import chunk_items
        from .rows import Chunk
        from .stages import encode_chunk, infer

        items = chunk_items(table)
        try:
            chunk = encode_chunk(Chunk(0, items, 0, ""), self.scorer,
                                 stop_on_error=self.options["stop"],
                                 source=self.options["source"])
            result = infer(chunk, self.scorer)
        except TriageError as exc:
            ray.get(self.tally.fail.remote(type(exc).__name__, exc.message))
            raise
        self.tally.add.remote(len(items), dict(result.counts), result.rejects)
        if not result.rows and self.options["out_format"] == "parquet":
            return pa.table({"data": pa.array([], pa.binary()), "rows": pa.array([], pa.int64())})
        return pa.table({"data": pa.array([self._encode(result.rows)], pa.binary()),
                         "rows": pa.array([len(result.rows)], pa.int64())})

    def _encode(self, rows: list[dict[str, Any]]) -> bytes:
        if self.options["out_format"] == "parquet":
            import io

            import pyarrow.parquet as pq

            from .arrow import rows_to_table

            buffer = io.BytesIO()
            pq.write_table(rows_to_table(rows), buffer)
            return buffer.getvalue()
        encoder = RowEncoder(self.options["out_format"], self.options["columns"])
        return encoder.encode(rows) if rows else b""


@dataclass
class Target:
    """Where the shards go, and whether they are joined into one file afterwards."""

    shards: str
    single: Path | None
    final_dir: Path | None
    gz: bool


def plan_target(output: str, fmt: str) -> Target:
    """One file (a local name with a known extension) or a directory of shards."""
    is_uri = "://" in output
    as_dir = output.endswith("/") or is_uri or Path(output).is_dir()
    gz = output.rstrip("/").endswith(".gz")
    if as_dir:
        if is_uri:
            return Target(output, None, None, gz)
        final = Path(output.rstrip("/"))
        return Target(str(final) + ".tmp-ray", None, final, gz)
    single = Path(output)
    return Target(str(single) + ".parts", single, None, gz)


def csv_columns(options: BatchOptions, fmt_in: str, heads: tuple[str, ...]) -> list[str] | None:
    """The CSV header for every shard: from the input's first chunk, as the local engine."""
    from .rows import read_items
    from .stages import added_columns

    added = added_columns(heads)
    if "://" in options.input:
        raise InputError("CSV output from a remote input: write JSONL or Parquet instead")
    first: list[dict[str, Any]] = []
    for item in read_items(options.input, fmt_in):
        if item.row is not None and item.error is None:
            first.append({**item.row, **{k: None for k in added if k not in item.row}})
        if len(first) == options.chunk_rows:
            break
    return column_order(first) if first else list(added)


def start(ray: Any, address: str | None, log: Log) -> None:
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address:
        kwargs["address"] = address
    ray.init(**kwargs)
    log(f"ray: {ray.cluster_resources().get('CPU', 0):.0f} CPUs"
        + (f" at {address}" if address else " (local instance)"))


def read(ray: Any, path: str, fmt: str, chunk_rows: int) -> Any:
    from .ray_io import RowsDatasource

    return ray.data.read_datasource(RowsDatasource(path, fmt=fmt, chunk_rows=chunk_rows),
                                    num_cpus=0)


def check(options: BatchOptions) -> None:
    options.check()
    if options.resume:
        raise InputError("--resume is for the local engine; with Ray, rerun the command")
    if options.input == "-" or options.output in (None, "-"):
        raise InputError("--engine ray reads and writes files: give FILE and -o OUT")


def score_with_ray(options: BatchOptions, model_dir: Path, ray_options: RayOptions, *,
                   log: Log | None = None) -> Summary:
    """Score `options.input` into `options.output` on Ray; see the module docstring."""
    log = log or (lambda _: None)
    check(options)
    ray = import_ray()
    fmt_in, fmt_out = options.formats()
    assert options.output is not None
    target = plan_target(options.output, fmt_out)
    heads = load_manifest(model_dir, verify_hashes=False).heads
    columns = csv_columns(options, fmt_in, heads) if fmt_out == "csv" else None
    start(ray, ray_options.address, log)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    run = RayRun(ray, options, ray_options, target, log, heads)
    return run.execute(model_dir, fmt_in, fmt_out, columns)


class RayRun:
    """One Ray job: the pipeline in a thread, the driver draining the tally meanwhile."""

    def __init__(self, ray: Any, options: BatchOptions, ray_options: RayOptions,
                 target: Target, log: Log, heads: tuple[str, ...] = ()) -> None:
        self.ray, self.options, self.ray_options = ray, options, ray_options
        self.target, self.log, self.heads = target, log, heads
        self.rejects = None
        if options.rejects:
            path = Path(options.rejects)
            self.rejects = TextSink(path, RowEncoder("jsonl"), gz=path.suffix == ".gz",
                                    fresh=True)

    def actors(self) -> int:
        if self.ray_options.actors:
            return self.ray_options.actors
        cpus = self.ray.cluster_resources().get("CPU", 1)
        return max(1, int(cpus // max(1, self.ray_options.threads)))

    def execute(self, model_dir: Path, fmt_in: str, fmt_out: str,
                columns: list[str] | None) -> Summary:
        started = time.monotonic()
        tally = self.ray.remote(num_cpus=0)(Tally).remote(model_files(model_dir))
        scored = self._pipeline(tally, fmt_in, fmt_out, columns)
        self._reset_shards()
        try:
            rows, counts = self._run(scored, tally, fmt_in, fmt_out, columns)
            self._publish(fmt_out, columns)
        except BaseException:
            self._discard()
            raise
        return Summary(rows=rows, counts=Counter(counts), elapsed=time.monotonic() - started,
                       output=self.options.output or "-", rejects=self.options.rejects,
                       engine="ray")

    def _pipeline(self, tally: Any, fmt_in: str, fmt_out: str,
                  columns: list[str] | None) -> Any:
        """read -> map_batches(ScoreActor): one chunk per call, one ONNX session per actor."""
        actor_options = {"threads": self.ray_options.threads,
                         "batch_size": self.ray_options.batch_size, "columns": columns,
                         "settings": self.ray_options.settings, "out_format": fmt_out,
                         "stop": self.options.on_error == "stop", "source": self.options.input}
        dataset = read(self.ray, self.options.input, fmt_in, self.options.chunk_rows)
        return dataset.map_batches(
            ScoreActor, batch_size=1, batch_format="pyarrow",
            fn_constructor_kwargs={"tally": tally, "options": actor_options},
            compute=self.ray.data.ActorPoolStrategy(size=self.actors()),
            num_cpus=self.ray_options.threads)

    def _run(self, scored: Any, tally: Any, fmt_in: str, fmt_out: str,
             columns: list[str] | None) -> tuple[int, dict[str, int]]:
        """Write in a thread while this one follows the tally; re-raise what stopped it."""
        errors: list[BaseException] = []
        writer = threading.Thread(target=self._write, args=(scored, fmt_out, columns, errors),
                                  daemon=True)
        local = "://" not in self.options.input
        progress = Progress(estimate_rows(self.options.input, fmt_in) if local else None,
                            log_every=self.options.log_every)
        writer.start()
        try:
            rows, counts = self._follow(writer, tally, progress)
        finally:
            progress.close()
        if errors:
            failure = self._failure(tally)
            if failure is not None:
                raise failure from errors[0]
            raise errors[0]
        return rows, counts

    def _discard(self) -> None:
        """A failed run leaves neither shards nor a partial rejects file behind."""
        if self.rejects is not None:
            self.rejects.discard()
        if self.target.single is not None or self.target.final_dir is not None:
            shutil.rmtree(self.target.shards, ignore_errors=True)

    def _failure(self, tally: Any) -> TriageError | None:
        """The triage error an actor stopped on, rebuilt from what it told the tally."""
        import triage.errors

        failure = self.ray.get(tally.first_failure.remote())
        if failure is None:
            return None
        kind, message = failure
        error_type = getattr(triage.errors, kind, TriageError)
        return error_type(message) if issubclass(error_type, TriageError) else TriageError(message)

    def _reset_shards(self) -> None:
        if "://" not in self.target.shards and Path(self.target.shards).exists():
            shutil.rmtree(self.target.shards)

    def _write(self, scored: Any, fmt: str, columns: list[str] | None,
               errors: list[BaseException]) -> None:
        from .ray_io import EncodedDatasink, SegmentDatasink

        try:
            if fmt == "parquet":
                sink: Any = SegmentDatasink(self.target.shards)
            else:
                header = b"" if self.target.single else RowEncoder(fmt, columns).header()
                ext = ("jsonl" if fmt == "jsonl" else "csv") + (".gz" if self.target.gz else "")
                sink = EncodedDatasink(self.target.shards, ext=ext, header=header,
                                       gz=self.target.gz)
            scored.write_datasink(sink, ray_remote_args={"num_cpus": 0})
        except BaseException as exc:  # noqa: BLE001 (re-raised by the driver thread)
            errors.append(exc)

    def _follow(self, writer: threading.Thread, tally: Any,
                progress: Progress) -> tuple[int, dict[str, int]]:
        rows, counts = 0, {}
        while True:
            alive = writer.is_alive()
            total, counts, rejects = self.ray.get(tally.drain.remote())
            if self.rejects is not None:
                self.rejects.write(rejects)
            progress.update(total - rows)
            rows = total
            if not alive:
                return rows, counts
            writer.join(timeout=0.5)

    def _publish(self, fmt: str, columns: list[str] | None) -> None:
        if self.rejects is not None:
            self.rejects.publish()
        target = self.target
        if target.single is not None:
            join_shards(Path(target.shards), target.single, fmt, columns, target.gz,
                        self.heads)
        elif target.final_dir is not None:
            if target.final_dir.exists():
                shutil.rmtree(target.final_dir)
            os.replace(target.shards, target.final_dir)


def join_shards(shards: Path, out: Path, fmt: str, columns: list[str] | None, gz: bool,
                heads: tuple[str, ...] = ()) -> None:
    """The shards, in order, as one file, renamed into place; the shards removed (`heads`:
    the model's, the columns of an empty Parquet output)."""
    import gzip

    from .arrow import merge_segments

    files = sorted(p for p in shards.iterdir() if p.is_file()) if shards.exists() else []
    temp = out.with_name(out.name + ".part")
    if fmt == "parquet":
        merge_segments([f for f in files if f.stat().st_size], temp, heads)
    else:
        with open(temp, "wb") as handle:
            header = RowEncoder(fmt, columns).header()
            if header:
                handle.write(gzip.compress(header, mtime=0) if gz else header)
            for f in files:
                with open(f, "rb") as shard:
                    shutil.copyfileobj(shard, handle, 1 << 20)
    os.replace(temp, out)
    shutil.rmtree(shards, ignore_errors=True)
