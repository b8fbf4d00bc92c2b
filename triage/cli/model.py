"""`triage train`, `triage eval`, `triage model`: the data scientist's commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from triage.cli.common import Command, emit, errors_to_exit, log, settings, show
from triage.errors import InputError, ModelError
from triage.heads import check_head, check_heads


def parse_heads(value: str | None) -> tuple[str, ...] | None:
    """`--heads a,b,c` as checked head names (None: every label column of the data)."""
    if value is None or not value.strip():
        return None
    return check_heads(name.strip() for name in value.split(",") if name.strip())


def parse_descriptions(values: list[str] | None) -> dict[str, str]:
    """`--head-description name="what it means"` (repeatable) as `{name: meaning}`."""
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, text = value.partition("=")
        if not sep or not text.strip():
            raise InputError(f"--head-description {value!r} is not NAME=TEXT; write e.g. "
                             '--head-description legal_threat="threatens legal action"')
        out[check_head(name.strip())] = text.strip()
    return out


@errors_to_exit
def train_cmd(
    data: Annotated[Path, typer.Argument(help="Labelled tickets: a .jsonl/.csv file or a folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    base: Annotated[str, typer.Option(help="'minilm', 'tiny' or a checkpoint dir.")] = "minilm",
    heads: Annotated[str | None, typer.Option(
        envvar="TRIAGE_TRAIN_HEADS",
        help="Heads to learn, comma-separated, e.g. frustration,urgency,legal_threat "
             "(default: every label column of the data).")] = None,
    head_description: Annotated[list[str] | None, typer.Option(
        help='What a head means, NAME="TEXT" (repeatable), e.g. '
             'legal_threat="threatens legal action"; written to the manifest.')] = None,
    epochs: Annotated[int, typer.Option(envvar="TRIAGE_TRAIN_EPOCHS")] = 3,
    batch_size: Annotated[int, typer.Option()] = 16,
    learning_rate: Annotated[float, typer.Option()] = 8e-5,
    max_length: Annotated[int, typer.Option()] = 128,
    seed: Annotated[int, typer.Option()] = 13,
    contrastive_epochs: Annotated[int, typer.Option(help="SetFit-style stage first.")] = 0,
    consistency_weight: Annotated[float | None, typer.Option(
        help="Weight of the counterfactual consistency loss (0 turns it off; default: "
             "the training configuration's).")] = None,
    teacher: Annotated[Path | None, typer.Option(
        help="Soft labels to distil from (`python -m training.teacher DATA -o FILE`): a "
             "stronger encoder's probabilities for the training rows.")] = None,
    distill_weight: Annotated[float, typer.Option(
        help="Share of the loss that follows the teacher (with --teacher).")] = 0.5,
    freeze_layers: Annotated[int, typer.Option(
        help="Keep the embeddings and this many bottom layers as the base model has them "
             "(2 of MiniLM's 6: 30 % faster steps, a little lower AUROC; docs/model-card.md)."
    )] = 0,
    long_text: Annotated[str, typer.Option(
        help="How a message longer than --max-length tokens is scored from its windows: "
             "chunk-and-mean (the mean of their probabilities) or chunk-and-max."),
    ] = "chunk-and-mean",
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps.")] = None,
    compare: Annotated[Path | None, typer.Option(help="Model to compare against "
                                                 "(default: the current default model).")] = None,
) -> None:
    """Fine-tune, calibrate and export a model; the report says if it beats the current one.

    Every label column of the data (0/1/empty) becomes a head unless --heads picks some.
    """
    from training.config import TrainConfig
    from training.data import check_descriptions, choose_heads

    chosen, descriptions = parse_heads(heads), parse_descriptions(head_description)
    check_descriptions(descriptions, choose_heads(data, chosen))  # before torch loads
    try:
        from training import train
    except ImportError as exc:
        raise ModelError(f"training needs the train extra ({exc.name} is missing); run "
                         "`pip install '.[train]'`") from exc

    config = TrainConfig(base_model=base, heads=chosen, head_descriptions=descriptions,
                         epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, max_length=max_length, seed=seed,
                         contrastive_epochs=contrastive_epochs, max_steps=max_steps,
                         teacher=str(teacher) if teacher else None,
                         distill_weight=distill_weight, freeze_layers=freeze_layers,
                         long_text=long_text)
    if consistency_weight is not None:
        config.consistency_weight = consistency_weight
    current = compare or settings().resolved_model_dir()
    train(config, data, out, log=log, compare_with=current if current != out else None)
    typer.echo((out / "report.md").read_text(encoding="utf-8"), err=True)
    emit({"model_dir": str(out), **json.loads((out / "report.json").read_text())})


@errors_to_exit
def eval_cmd(
    data: Annotated[Path, typer.Argument(help="Labelled file (.jsonl/.csv), may have `source`.")],
    model: Annotated[Path | None, typer.Option(help="Model dir (default: TRIAGE_MODEL_DIR).")] = None,
    out: Annotated[Path, typer.Option(help="Where to write eval.md/json/png.")] = Path("eval-report"),
    parity_rows: Annotated[int, typer.Option(help="Messages sampled for the parity check.")] = 200,
) -> None:
    """Per head of the model and per source: AUROC, AP, F1, Brier, ECE; reliability PNG;
    parity check."""
    from triage.assembly import build_scorer
    from triage.evaluation import evaluate, write_reports
    from triage.records import iter_rows, label_columns, read_records

    scorer = build_scorer(settings(), model_dir=model)
    records = read_records(data, heads=scorer.heads)
    log(f"evaluating {len(records)} rows with model {scorer.version} "
        f"(heads: {', '.join(scorer.heads)})")
    unscored = [h for h in label_columns(row for _, row in iter_rows(data))
                if h not in scorer.heads]
    if unscored:
        log(f"the file labels {unscored}, which this model does not score; left out")
    result = evaluate(scorer, records, parity_rows=parity_rows,
                      progress=lambda done, total: log(f"  scored {done}/{total}")
                      if done % 4096 < 512 or done == total else None)
    paths = write_reports(result, str(data), out)
    typer.echo(paths[0].read_text(encoding="utf-8"), err=True)
    emit({"report": [str(p) for p in paths], "overall": result.overall})


@errors_to_exit
def model_cmd(
    build: Annotated[bool, typer.Option(help="Build the default model if it is missing.")] = False,
) -> None:
    """Print the manifest of the model in use (building the default one with --build)."""
    from triage.models.default import ensure_default_model
    from triage.models.manifest import load_manifest

    s = settings()
    path = ensure_default_model(s, log) if build else s.resolved_model_dir()
    show(load_manifest(path).raw)


def register(app: typer.Typer) -> None:
    app.command("train", cls=Command)(train_cmd)
    app.command("eval", cls=Command)(eval_cmd)
    app.command("model", cls=Command)(model_cmd)
