"""Export to one ONNX graph (encoder + head, outputs `logits` and `probabilities`), int8
quantization (per-channel weights, per-token activations), a parity check against PyTorch,
and the manifest."""

from __future__ import annotations

import platform
import shutil
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.config import TrainConfig
from training.data import Split
from training.quantize import QUANTIZATION, quantize
from triage.metrics import head_metrics
from triage.models.manifest import MODEL_FILE, TOKENIZER_FILE, sha256_file, write_manifest
from triage.textprep import prepare

Log = Callable[[str], None]


class _Graph(torch.nn.Module):
    """Encoder + head + sigmoid, with the two inputs the runtime feeds."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):  # type: ignore[no-untyped-def]
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
        return logits, torch.sigmoid(logits)


def to_onnx(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: Path) -> None:
    """Write the fp32 graph with dynamic batch and sequence axes."""
    model.eval()
    enc = tokenizer(["a short message", "and a second, somewhat longer message"],
                    padding=True, return_tensors="pt")
    dynamic = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Graph(model), (enc["input_ids"], enc["attention_mask"]), str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits", "probabilities"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic,
                          "logits": {0: "batch"}, "probabilities": {0: "batch"}},
            opset_version=17, dynamo=False,
        )


def onnx_logits(path: Path, tokenizer: PreTrainedTokenizerBase, texts: list[str],
                max_length: int) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    width = session.get_outputs()[0].shape[1]
    texts = [prepare(t) for t in texts]
    out = np.zeros((len(texts), width), np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding
    for start in range(0, len(order), 64):
        idx = order[start:start + 64]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                        max_length=max_length, return_tensors="np")
        out[idx] = session.run(["logits"], {"input_ids": enc["input_ids"].astype(np.int64),
                                            "attention_mask": enc["attention_mask"].astype(np.int64)})[0]
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def parity(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, fp32: Path, int8: Path,
           split: Split, max_length: int) -> dict[str, Any]:
    """Largest probability gaps (torch vs fp32 ONNX vs int8) and AUROC of fp32 vs int8."""
    from training.train import predict_logits

    texts = split.texts
    torch_p = _sigmoid(predict_logits(model, tokenizer, texts, max_length))
    fp32_p = _sigmoid(onnx_logits(fp32, tokenizer, texts, max_length))
    int8_p = _sigmoid(onnx_logits(int8, tokenizer, texts, max_length))
    result: dict[str, Any] = {
        "rows": len(texts),
        "max_gap_torch_vs_fp32": float(np.abs(torch_p - fp32_p).max()) if texts else 0.0,
        "max_gap_fp32_vs_int8": float(np.abs(fp32_p - int8_p).max()) if texts else 0.0,
        "auroc": {},
    }
    for j, head in enumerate(split.heads):
        a = head_metrics(split.labels[:, j], fp32_p[:, j]).auroc
        b = head_metrics(split.labels[:, j], int8_p[:, j]).auroc
        result["auroc"][head] = {"fp32": a, "int8": b,
                                 "delta": None if a is None or b is None else b - a}
    return result


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    names = ["torch", "transformers", "onnx", "onnxruntime", "tokenizers", "scikit-learn", "numpy"]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return versions


def export_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 splits: dict[str, Split], calibration: dict, thresholds: dict,
                 config: TrainConfig, out: Path, meta: dict[str, Any], log: Log, *,
                 descriptions: dict[str, str] | None = None) -> None:
    """Write the servable directory: model.onnx (int8 or fp32), tokenizer, hf/, manifest.

    The heads are the splits' label columns, in order (the graph's outputs); `descriptions`
    says what each means (`head_descriptions` in the manifest).
    """
    heads = splits["train"].heads
    fp32, int8 = out / "model-fp32.onnx", out / MODEL_FILE
    log("exporting to ONNX")
    to_onnx(model, tokenizer, fp32)
    check = splits["heldout"] if splits["heldout"].texts else splits["val"]
    if config.quantize:
        log("quantizing to int8")
        quantize(fp32, int8)
        log(f"checking ONNX against PyTorch on {len(check.texts)} rows")
        quality = parity(model, tokenizer, fp32, int8, check, config.max_length)
        log(f"parity: max prob gap torch/fp32 {quality['max_gap_torch_vs_fp32']:.2e}, "
            f"fp32/int8 {quality['max_gap_fp32_vs_int8']:.3f}")
    else:
        shutil.copyfile(fp32, int8)
        log(f"checking ONNX against PyTorch on {len(check.texts)} rows")
        quality = parity(model, tokenizer, fp32, int8, check, config.max_length)
    hf = out / "hf"
    if hf.exists():
        shutil.rmtree(hf)
    model.save_pretrained(hf, safe_serialization=True)
    tokenizer.save_pretrained(hf)
    shutil.copyfile(hf / "tokenizer.json", out / TOKENIZER_FILE)
    created = datetime.now(UTC)
    raw = {
        "name": "triage-minilm" if config.base_model == "minilm" else f"triage-{Path(config.base_model).name}",
        "version": "",
        "created_at": created.isoformat(timespec="seconds"),
        "heads": list(heads),
        "head_descriptions": {h: (descriptions or {}).get(h, "") for h in heads},
        "max_length": config.max_length,
        "long_text": {"strategy": config.long_text, "stride": config.stride,
                      "max_chunks": config.max_chunks},
        "onnx": {"file": MODEL_FILE, "inputs": ["input_ids", "attention_mask"],
                 "outputs": ["logits", "probabilities"],
                 "quantization": QUANTIZATION if config.quantize else "none",
                 "fp32_file": "model-fp32.onnx"},
        "files": {MODEL_FILE: "", TOKENIZER_FILE: ""},
        "calibration": {"method": "platt", **calibration},
        "thresholds": thresholds,
        "training": meta,
        "parity": quality,
        "metrics": {},
        "library_versions": library_versions(),
    }
    write_manifest(out, raw)
    raw["version"] = f"{created:%Y%m%d}-{sha256_file(int8)[:8]}"
    write_manifest(out, raw)
