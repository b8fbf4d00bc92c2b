"""An ordered three-stage pipeline: a reader thread, inference workers, an in-order consumer.

    reader thread:  read rows -> chunk -> prepare (validate, gate, tokenize)
                          | bounded queue (`depth` chunks)
    worker threads: infer (onnxruntime releases the GIL, so this overlaps the reader)
                          | futures, oldest first
    caller:         write and checkpoint, strictly in input order

Memory is bounded by `depth + workers + 1` chunks in flight, whatever the input size. An
error in the reader reaches the caller after every chunk read before it has been yielded,
so a run stopped by a bad row has written everything before that row's chunk.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Pipeline(Generic[In, Out]):
    """Run `produce()` in a thread and `work` on `workers` threads; yield results in order."""

    def __init__(self, produce: Callable[[], Iterator[In]], work: Callable[[In], Out], *,
                 workers: int = 1, depth: int = 2) -> None:
        self.produce, self.work = produce, work
        self.workers, self.depth = max(1, workers), max(1, depth)
        self.queue: queue.Queue[object] = queue.Queue(maxsize=self.depth)
        self.stopping = threading.Event()

    def __iter__(self) -> Iterator[Out]:
        reader = threading.Thread(target=self._read, name="triage-batch-reader", daemon=True)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="triage-batch-infer")
        pending: deque[Future[Out]] = deque()
        reader.start()
        try:
            while (got := self.queue.get()) is not _END:
                if isinstance(got, _Failure):
                    while pending:
                        yield pending.popleft().result()
                    raise got.error
                pending.append(pool.submit(self.work, got))  # type: ignore[arg-type]
                if len(pending) > self.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            self.stopping.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def _read(self) -> None:
        try:
            for item in self.produce():
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer, which re-raises)
            self._put(_Failure(exc))

    def _put(self, item: object) -> bool:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
