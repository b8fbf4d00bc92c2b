"""`triage train`, `triage eval`, `triage model`: the data scientist's commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from triage.cli.common import Command, emit, errors_to_exit, log, settings, show


@errors_to_exit
def train_cmd(
    data: Annotated[Path, typer.Argument(help="Labelled tickets: a .jsonl/.csv file or a folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    base: Annotated[str, typer.Option(help="'minilm', 'tiny' or a checkpoint dir.")] = "minilm",
    epochs: Annotated[int, typer.Option(envvar="TRIAGE_TRAIN_EPOCHS")] = 3,
    batch_size: Annotated[int, typer.Option()] = 16,
    learning_rate: Annotated[float, typer.Option()] = 8e-5,
    max_length: Annotated[int, typer.Option()] = 128,
    seed: Annotated[int, typer.Option()] = 13,
    contrastive_epochs: Annotated[int, typer.Option(help="SetFit-style stage first.")] = 0,
    consistency_weight: Annotated[float | None, typer.Option(
        help="Weight of the counterfactual consistency loss (0 turns it off; default: "
             "the training configuration's).")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps.")] = None,
    compare: Annotated[Path | None, typer.Option(help="Model to compare against "
                                                 "(default: the current default model).")] = None,
) -> None:
    """Fine-tune, calibrate and export a model; the report says if it beats the current one."""
    from training import TrainConfig, train

    config = TrainConfig(base_model=base, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, max_length=max_length, seed=seed,
                         contrastive_epochs=contrastive_epochs, max_steps=max_steps)
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
    """Per head and per source: AUROC, AP, F1, Brier, ECE; reliability PNG; parity check."""
    from triage.evaluation import evaluate, write_reports
    from triage.records import read_records
    from triage.scoring import Scorer

    s = settings()
    scorer = Scorer.from_dir(model or s.resolved_model_dir(), threads=s.threads)
    records = read_records(data)
    log(f"evaluating {len(records)} rows with model {scorer.version}")
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
