"""A SetFit-style contrastive stage: before fine-tuning, pull together sentence vectors of
messages with the same label vector and push apart those with different ones (cosine
similarity loss on mean-pooled embeddings, as in SetFit)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.config import TrainConfig
from training.data import Split
from training.modeling import mean_pool


def make_pairs(split: Split, count: int, rng: random.Random) -> list[tuple[int, int, float]]:
    """Half positive pairs (same label vector), half negative pairs (different vector)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(split.labels):
        if not np.isnan(row).any():
            groups[tuple(int(v) for v in row)].append(i)
    keys = [k for k, v in groups.items() if len(v) >= 2]
    if len(groups) < 2 or not keys:
        return []
    pairs: list[tuple[int, int, float]] = []
    while len(pairs) < count:
        key = rng.choice(keys)
        a, b = rng.sample(groups[key], 2)
        pairs.append((a, b, 1.0))
        other = rng.choice([k for k in groups if k != key])
        pairs.append((a, rng.choice(groups[other]), 0.0))
    return pairs


def contrastive_stage(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, split: Split,
                      config: TrainConfig, log: Callable[[str], None]) -> None:
    """Train the encoder on sentence pairs for `config.contrastive_epochs` epochs."""
    rng = random.Random(config.seed + 1)
    pairs = make_pairs(split, config.contrastive_pairs, rng)
    if not pairs:
        log("contrastive stage skipped: too few fully labelled rows")
        return
    optimizer = torch.optim.AdamW(model.base_model.parameters(), lr=2e-5)
    model.train()
    size = config.batch_size
    steps = config.contrastive_epochs * ((len(pairs) + size - 1) // size)
    with tqdm(total=steps, desc="contrastive", unit="step", disable=None) as bar:
        for _ in range(config.contrastive_epochs):
            rng.shuffle(pairs)
            for start in range(0, len(pairs), size):
                chunk = pairs[start:start + size]
                left = tokenizer([split.texts[a] for a, _, _ in chunk], padding=True,
                                 truncation=True, max_length=config.max_length, return_tensors="pt")
                right = tokenizer([split.texts[b] for _, b, _ in chunk], padding=True,
                                  truncation=True, max_length=config.max_length, return_tensors="pt")
                target = torch.tensor([t for _, _, t in chunk])
                u = mean_pool(model, left["input_ids"], left["attention_mask"])
                v = mean_pool(model, right["input_ids"], right["attention_mask"])
                loss = torch.nn.functional.mse_loss(torch.cosine_similarity(u, v), target)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                bar.update(1)
    log(f"contrastive stage: {len(pairs)} pairs, {config.contrastive_epochs} epoch(s)")
