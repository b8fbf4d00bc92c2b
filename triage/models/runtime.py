"""The scoring runtime: one onnxruntime session and one fast tokenizer per process.

`ScoringModel.predict_proba(str | list[str])` returns calibrated probabilities for the
model's heads (listed in its manifest). Texts are prepared (`triage.textprep`), tokenized
with dynamic padding, sorted by length into micro-batches, and long messages are cut into
overlapping windows of `max_length` tokens (at most `max_chunks`) whose calibrated
probabilities are combined per head as the manifest's `long_text.strategy` says:
"chunk-and-mean" (models built from 2026-12-02) averages them, "chunk-and-max" (models
built before) takes the maximum. The maximum lifts a long message with every window it has
(more windows, more chances of one high score), so long calm posts outranked short urgent
ones: on the 584 dev course-forum posts of two or more windows the mean ranks urgency
0.02-0.03 AUROC better than the maximum (three models), and on our own 72-79 held-out long
messages it is within 0.01 of it on every head (`bench/aggregation.py`;
docs/benchmarks.md). Nothing here imports torch.

Batch invariance: a message's score must not depend on which other messages it was scored
with. Models built now are quantized per token (`int8-per-token`: each token's activations
get their own int8 scale, `training/quantize.py`), so a window's result depends on that
window alone and windows batch freely, as in fp32; their weights use 7 bits, so the
integer products cannot saturate on CPUs without VNNI and are exact on every CPU. Models
built before 2026-12-02 quantized each activation tensor with one scale per call (`int8-dynamic-per-channel`), so rows batched
together changed each other's scores (median 0.003, p99 0.13, max 0.35 between batch sizes
1 and 8 on 400 dev messages); such a model still runs every window in a call of its own
(`one_per_call`); rebuild it to batch.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import overload

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from triage.errors import ModelError
from triage.models.manifest import MODEL_FILE, TOKENIZER_FILE, Manifest, load_manifest
from triage.textprep import prepare


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class ScoringModel:
    """A loaded triage model.

    Args:
        model_dir: a directory with `manifest.json`, `model.onnx` and `tokenizer.json`.
        threads: onnxruntime intra-op threads (0: one per core).
        batch_size: windows per inference call.
        slots: at most this many inference calls at once, whatever the number of calling
            threads (0: no limit). A server answering many small requests on many threads
            wants `threads=1` and one slot per core: a single short message gains almost
            nothing from a second intra-op thread (2.40 ms instead of 2.57 ms) but costs
            nearly twice the CPU, and unbounded concurrent calls fight over the cores.
            The callers' Python work (language gate, tokenization, HTTP) overlaps the calls.
        max_chars: text preparation keeps the head and tail of longer texts, this many
            characters in all (TRIAGE_MAX_TEXT_CHARS).
    """

    def __init__(self, model_dir: str | Path, *, threads: int = 0, batch_size: int = 32,
                 verify_hashes: bool = True, slots: int = 0, max_chars: int = 20_000) -> None:
        self.model_dir = Path(model_dir)
        self.max_chars = max_chars
        self.manifest: Manifest = load_manifest(self.model_dir, verify_hashes=verify_hashes)
        self.heads = self.manifest.heads
        self.strategy = self.manifest.long_text_strategy
        quantization = str(self.manifest.raw.get("onnx", {}).get("quantization", ""))
        self.one_per_call = quantization.startswith("int8-dynamic")
        self.batch_size = 1 if self.one_per_call else batch_size
        self.tokenizer = self._load_tokenizer()
        self.session = self._load_session(threads)
        self._slots: contextlib.AbstractContextManager[object] = (
            threading.BoundedSemaphore(slots) if slots > 0 else contextlib.nullcontext())
        cal = [self.manifest.calibration(h) for h in self.heads]
        self._cal_a = np.array([c.a for c in cal], dtype=np.float32)
        self._cal_b = np.array([c.b for c in cal], dtype=np.float32)

    @property
    def version(self) -> str:
        return self.manifest.version

    def _load_tokenizer(self) -> Tokenizer:
        try:
            tok = Tokenizer.from_file(str(self.model_dir / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises a bare Exception
            raise ModelError(f"{self.model_dir / TOKENIZER_FILE} is unreadable ({exc})") from exc
        tok.no_padding()
        tok.enable_truncation(self.manifest.max_length, stride=self.manifest.stride)
        return tok

    def _load_session(self, threads: int) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or (os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            return ort.InferenceSession(
                str(self.model_dir / MODEL_FILE), opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own unrelated types
            raise ModelError(f"{self.model_dir / MODEL_FILE} cannot be loaded ({exc})") from exc

    @overload
    def predict_proba(self, texts: str) -> np.ndarray: ...
    @overload
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_proba(self, texts: str | Sequence[str]) -> np.ndarray:
        """Calibrated probabilities: shape (heads,) for a str, (n, heads) for a list."""
        if isinstance(texts, str):
            return self.predict_logits([texts], calibrated=True)[0]
        return self.predict_logits(list(texts), calibrated=True)

    def predict_logits(self, texts: list[str], *, calibrated: bool = False) -> np.ndarray:
        """Per-head scores: raw logits, or calibrated probabilities when asked."""
        if not texts:
            return np.zeros((0, len(self.heads)), dtype=np.float32)
        return self.score_encoded(self.encode(texts), calibrated=calibrated)

    def encode(self, texts: list[str]) -> tuple[list[Encoding], np.ndarray]:
        """Prepare and tokenize: the windows of every text and the text each belongs to.

        With `score_encoded` this splits `predict_proba` in two, so a pipeline can tokenize
        in one thread while another runs the model.
        """
        return self._windows([prepare(t, self.max_chars) for t in texts])

    def score_encoded(self, encoded: tuple[list[Encoding], np.ndarray], *,
                      calibrated: bool = True) -> np.ndarray:
        """Run the model on `encode`'s output; each text's windows combined as the
        manifest's `long_text.strategy` says (mean or maximum; uncalibrated, the mean of
        the windows' logits)."""
        window_scores, owners = self.window_scores(encoded, calibrated=calibrated)
        if not len(owners):
            return window_scores
        texts = int(owners.max()) + 1
        if self.strategy == "chunk-and-max":
            out = np.full((texts, len(self.heads)), -np.inf, dtype=np.float32)
            np.maximum.at(out, owners, window_scores)
            return out
        sums = np.zeros((texts, len(self.heads)), dtype=np.float64)
        np.add.at(sums, owners, window_scores)
        counts = np.bincount(owners, minlength=texts)[:, None]
        return (sums / counts).astype(np.float32)

    def window_scores(self, encoded: tuple[list[Encoding], np.ndarray], *,
                      calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Every window's scores (logits, or calibrated probabilities), and the text each
        window belongs to, before the windows of a text are combined."""
        windows, owners = encoded
        if not windows:
            return np.zeros((0, len(self.heads)), dtype=np.float32), owners
        window_logits = self._run(windows)
        if calibrated:
            window_logits = _sigmoid(window_logits * self._cal_a + self._cal_b)
        return window_logits, owners

    def _windows(self, texts: list[str]) -> tuple[list[Encoding], np.ndarray]:
        windows: list[Encoding] = []
        owners: list[int] = []
        for index, enc in enumerate(self.tokenizer.encode_batch(texts)):
            parts = [enc, *enc.overflowing][: self.manifest.max_chunks]
            windows.extend(parts)
            owners.extend([index] * len(parts))
        return windows, np.asarray(owners, dtype=np.int64)

    def _run(self, windows: list[Encoding]) -> np.ndarray:
        lengths = np.array([len(w) for w in windows])  # no padding: every token is real
        order = np.argsort(lengths, kind="stable")
        result = np.empty((len(windows), len(self.heads)), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = int(lengths[i])
                ids[row, :n] = windows[i].ids[:n]
                mask[row, :n] = 1
            with self._slots:
                (logits,) = self.session.run(["logits"],
                                             {"input_ids": ids, "attention_mask": mask})
            result[idx] = logits
        return result
