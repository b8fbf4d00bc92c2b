"""First start: the default model is built in its own process while the API answers.

Progress is followed phase by phase (a fake clock), the build child is run for real on the
tiny model (`TRIAGE_BUILD_CONFIG`), and the app is driven through a build: 503 with
progress and Retry-After, then serving without a restart once the model appears.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.keys import create_key
from triage.models.default import is_valid
from triage.models.progress import (
    BUILDING,
    FAILED,
    BuildProgress,
    read_status,
    status_path,
    write_status,
)
from triage.settings import Settings

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples" / "parts"
TINY = {"base_model": "tiny", "epochs": 1, "max_steps": 12, "batch_size": 16, "seed": 7}
TRAINING_LINES = [
    "building the default model from data/samples into x (one-off)",
    "rows: train 30, val 6, heldout 6",
    "step 3/12, loss 0.6, 1s, ETA 3s",
    "step 12/12, loss 0.5, 4s, ETA 0s",
    "epoch 1: train loss 0.5, val AUROC frustration 0.5",
    "calibrating on the validation split",
    "exporting to ONNX",
    "quantizing to int8",
    "checking ONNX against PyTorch on 6 rows",
    "parity: max prob gap torch/fp32 1e-06, fp32/int8 0.010",
    "report: x/report.md (first model)",
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_moves_through_every_phase(tmp_path: Path) -> None:
    clock, lines = FakeClock(), []
    progress = BuildProgress(tmp_path / "default", lines.append, clock=clock)
    seen: list[tuple[str, float]] = []
    for line in TRAINING_LINES:
        clock.now += 10
        progress.log(line)
        seen.append((progress.phase, progress.progress()))
    phases = [phase for phase, _ in seen]
    for phase in ("training", "calibration", "export", "quantization", "checks", "report"):
        assert phase in phases
    fractions = [p for _, p in seen]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] < 1
    status = read_status(tmp_path / "default")
    assert status is not None and status["state"] == BUILDING and status["phase"] == "report"
    assert status["eta_s"] is not None and status["eta_s"] >= 0
    assert any(line.startswith("building model: quantizing to int8") for line in lines)


def test_progress_training_steps_give_an_eta(tmp_path: Path) -> None:
    clock = FakeClock()
    progress = BuildProgress(tmp_path / "default", lambda _: None, clock=clock)
    progress.log("rows: train 30, val 6, heldout 6")
    clock.now += 100
    progress.log("step 50/100, loss 0.6, 100s, ETA 100s")
    assert progress.detail == "step 50/100"
    assert progress.progress() == pytest.approx(0.03 + 0.8 * 0.5)
    assert progress.eta_s() == pytest.approx(100 * (1 - 0.43) / 0.43)
    assert "about 2m13s left" in progress.summary()


def test_progress_prints_during_a_silent_phase(tmp_path: Path) -> None:
    lines: list[str] = []
    progress = BuildProgress(tmp_path / "default", lines.append, every=0.1).start()
    progress.log("exporting to ONNX")
    time.sleep(0.6)
    progress.stop()
    heartbeats = [line for line in lines if line.startswith("building model: exporting")]
    assert len(heartbeats) >= 3


def test_progress_failure_and_finish_leave_the_status(tmp_path: Path) -> None:
    target = tmp_path / "default"
    BuildProgress(target, lambda _: None).start().fail("no samples")
    assert read_status(target)["state"] == FAILED  # type: ignore[index]
    assert read_status(target)["error"] == "no samples"  # type: ignore[index]
    BuildProgress(target, lambda _: None).start().finish()
    assert read_status(target) is None


def test_progress_status_of_a_dead_build_reads_failed(tmp_path: Path) -> None:
    target = tmp_path / "default"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    write_status(target, {"state": BUILDING, "pid": int(dead.stdout)})
    status = read_status(target)
    assert status is not None and status["state"] == FAILED and "gone" in status["error"]


def test_build_child_builds_the_tiny_model_with_progress(tmp_path: Path) -> None:
    target = tmp_path / "models" / "default"
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path), "TRIAGE_SAMPLES_DIR": str(SAMPLES),
           "TRIAGE_BUILD_CONFIG": json.dumps(TINY)}
    env.pop("TRIAGE_MODEL_DIR", None)
    done = subprocess.run([sys.executable, "-m", "triage.models.build", str(target)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert is_valid(target) and not status_path(target).exists()
    out = done.stdout
    for phase in ("building model: training", "exporting to ONNX", "quantizing to int8",
                  "checking ONNX against PyTorch", "model ready after"):
        assert phase in out, out
    assert not list(target.parent.glob(".building-*"))


def test_build_child_failure_is_recorded(tmp_path: Path) -> None:
    target = tmp_path / "models" / "default"
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path),
           "TRIAGE_SAMPLES_DIR": str(tmp_path / "missing")}
    done = subprocess.run([sys.executable, "-m", "triage.models.build", str(target)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    status = read_status(target)
    assert status is not None and status["state"] == FAILED
    assert "no labelled samples" in status["error"]


# --- the app while the model is being built -----------------------------------------------


@pytest.fixture
def building_app(tmp_path: Path) -> Iterator[tuple[TestClient, Path, str]]:
    """An app whose default model is 'being built' (a status naming this live process)."""
    target = tmp_path / "models" / "default"
    target.parent.mkdir(parents=True)
    write_status(target, {"state": BUILDING, "phase": "training", "progress": 0.42,
                          "eta_s": 300, "pid": os.getpid()})
    settings = Settings(home=tmp_path, sweep_seconds=0)
    with TestClient(create_app(settings)) as client:
        key = create_key(client.app.state.service.db, "alice", "agent")[0]  # type: ignore[attr-defined]
        yield client, target, key


def _intake(client: TestClient, key: str) -> Any:
    return client.post("/v1/tickets", headers={"Authorization": f"Bearer {key}"},
                       json={"text": "Where is my parcel? It was due on Monday."})


def test_app_answers_while_the_model_is_built(building_app: tuple[TestClient, Path, str],
                                              tiny_model_dir: Path) -> None:
    client, target, key = building_app
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["retry-after"] == "60"
    body = ready.json()
    assert body["state"] == "building model" and body["progress"] == 0.42
    assert body["eta_s"] == 300 and body["error_type"] == "ModelBuilding"
    for refused in (_intake(client, key),
                    client.post("/v1/score", headers={"Authorization": f"Bearer {key}"},
                                json={"text": "hello"})):
        assert refused.status_code == 503 and refused.headers["retry-after"] == "60"
        assert refused.json()["error_type"] == "ModelBuilding"
        assert "being built" in refused.json()["error"]

    shutil.copytree(tiny_model_dir, target)
    deadline = time.monotonic() + 20
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.2)
    assert _intake(client, key).status_code == 201


def test_app_reports_a_failed_build(building_app: tuple[TestClient, Path, str]) -> None:
    client, target, key = building_app
    write_status(target, {"state": FAILED, "pid": os.getpid(), "error": "out of memory"})
    deadline = time.monotonic() + 20
    while (ready := client.get("/readyz")).json().get("error_type") == "ModelBuilding":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert ready.status_code == 503 and "out of memory" in ready.json()["error"]
    assert _intake(client, key).status_code == 503


# --- a real first start: `triage serve` with no model --------------------------------------


def test_serve_first_start_answers_while_building(tmp_path: Path) -> None:
    from test_service_e2e import TRIAGE, free_port

    port = free_port()
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_PORT": str(port),
           "TRIAGE_SAMPLES_DIR": str(SAMPLES), "TRIAGE_BUILD_CONFIG": json.dumps(TINY),
           "TRIAGE_THREADS": "1", "TRIAGE_SWEEP_SECONDS": "0"}
    for name in ("TRIAGE_MODEL_DIR", "TRIAGE_DATABASE_URL"):
        env.pop(name, None)
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(TRIAGE), "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        answers = _poll_until_ready(base, proc, log_path)
        maps = Path(f"/proc/{proc.pid}/maps")
        if maps.exists():  # the server itself never loaded torch: only the build child did
            assert "libtorch" not in maps.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    building = [a for a in answers if a[0] == 503]
    assert building, f"never saw the building state: {answers}\n{log_path.read_text()}"
    assert all(a[1]["state"] == "building model" and 0 <= a[1]["progress"] <= 1
               for a in building)
    text = log_path.read_text()
    assert "building the default model in the background" in text
    assert "building model: exporting to ONNX" in text and "model ready after" in text


def _poll_until_ready(base: str, proc: subprocess.Popen[bytes],
                      log_path: Path) -> list[tuple[int, dict[str, Any]]]:
    import httpx

    answers: list[tuple[int, dict[str, Any]]] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()
        try:
            assert httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            r = httpx.get(f"{base}/readyz", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        answers.append((r.status_code, r.json()))
        if r.status_code == 200:
            return answers
        time.sleep(0.5)
    pytest.fail(f"not ready in time: {answers[-3:]}\n{log_path.read_text()}")
