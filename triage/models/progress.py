"""Progress of a default-model build: phases, a progress fraction, an ETA, a status file.

The build (`triage.models.build`, its own process) feeds every training log line to
`BuildProgress.log`, which recognises the phase it announces (training steps, calibration,
ONNX export, int8 quantization, checks, report) and prints a progress line on each phase
change and at least every `every` seconds. Each update is also written, atomically, to a
small JSON status file beside the model directory; the API processes read it for
`/readyz` and the `Retry-After` of requests refused while the model is being built.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUILDING = "building model"
FAILED = "build failed"
# (phase, what the user reads, share of the whole build's time on 2 cores)
PHASES: tuple[tuple[str, str, float], ...] = (
    ("prepare", "reading the labelled samples and loading the base model", 0.03),
    ("training", "training", 0.80),
    ("calibration", "calibrating on the validation split", 0.02),
    ("export", "exporting to ONNX", 0.05),
    ("quantization", "quantizing to int8", 0.03),
    ("checks", "checking ONNX against PyTorch", 0.05),
    ("report", "writing the quality report", 0.02),
)
_STEP = re.compile(r"^step (\d+)/(\d+)")
# a log line that starts a phase -> that phase
_STARTS = (("rows:", "training"), ("step ", "training"), ("calibrating", "calibration"),
           ("exporting", "export"), ("quantizing", "quantization"), ("checking", "checks"),
           ("parity:", "report"))


def status_path(target: Path) -> Path:
    """The status file of a build into `target` (beside it, so it is never served)."""
    return target.parent / f".{target.name}.build.json"


def read_status(target: Path) -> dict[str, Any] | None:
    """The build status for `target`, or None when no build is running or has failed.

    A status that says "building" while its process is gone reads as a failed build.
    """
    try:
        status: dict[str, Any] = json.loads(status_path(target).read_text())
    except (OSError, ValueError):
        return None
    if status.get("state") == BUILDING and not _alive(int(status.get("pid") or 0)):
        return {**status, "state": FAILED,
                "error": f"the build process (pid {status.get('pid')}) is gone"}
    return status


def write_status(target: Path, status: dict[str, Any]) -> None:
    path = status_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(status))
    tmp.replace(path)


def clear_status(target: Path) -> None:
    status_path(target).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def duration(seconds: float) -> str:
    """`95` -> `1m35s`; `3700` -> `1h01m`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class BuildProgress:
    """Follows a build through its phases; prints and records progress.

    Args:
        target: the model directory being built (the status file goes beside it).
        out: where progress lines go (the build's stdout).
        every: the longest silence between two progress lines, in seconds.
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, target: Path, out: Callable[[str], None] = print, *,
                 every: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self.out = out
        self.every = every
        self.clock = clock
        self.started = clock()
        self.phase = "prepare"
        self.within = 0.0
        self.detail = ""
        self.last_line = self.started
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def progress(self) -> float:
        """The share of the build done, 0..1, from the phase and how far into it."""
        done = 0.0
        for name, _, share in PHASES:
            if name == self.phase:
                return min(0.99, done + share * self.within)
            done += share
        return 0.99

    def eta_s(self) -> float | None:
        """Seconds left, extrapolated from the time so far (None until there is a basis)."""
        p = self.progress()
        if p < 0.04:
            return None
        return (self.clock() - self.started) * (1 - p) / p

    def log(self, line: str) -> None:
        """Take one line from training: pass it on, and move the phase if it starts one."""
        with self._lock:
            self._emit(f"build: {line}")
            for prefix, phase in _STARTS:
                if line.startswith(prefix):
                    self._enter(phase)
            step = _STEP.match(line)
            if step:
                done, total = int(step.group(1)), int(step.group(2))
                self.within = done / max(total, 1)
                self.detail = f"step {done}/{total}"

    def start(self) -> BuildProgress:
        """Record the start and print a line at least every `every` seconds from now on."""
        self.update()
        self._ticker = threading.Thread(target=self._tick, name="build-progress", daemon=True)
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()

    def fail(self, error: str) -> None:
        self.stop()
        write_status(self.target, {**self.status(), "state": FAILED, "error": error})
        self.out(f"build: failed after {duration(self.clock() - self.started)}: {error}")

    def finish(self) -> None:
        self.stop()
        clear_status(self.target)
        self.out(f"build: model ready after {duration(self.clock() - self.started)}")

    def status(self) -> dict[str, Any]:
        eta = self.eta_s()
        return {"state": BUILDING, "phase": self.phase, "detail": self.detail,
                "progress": round(self.progress(), 3),
                "eta_s": None if eta is None else round(eta),
                "elapsed_s": round(self.clock() - self.started), "pid": os.getpid()}

    def update(self) -> None:
        """Print the progress line and write the status file."""
        with self._lock:
            self._emit(self.summary())

    def summary(self) -> str:
        eta = self.eta_s()
        left = "time left not known yet" if eta is None else f"about {duration(eta)} left"
        what = {n: w for n, w, _ in PHASES}[self.phase]
        detail = f" ({self.detail})" if self.detail else ""
        return (f"building model: {what}{detail}, {self.progress():.0%} done, "
                f"{duration(self.clock() - self.started)} elapsed, {left}")

    def _enter(self, phase: str) -> None:
        if phase != self.phase:
            self.phase, self.within, self.detail = phase, 0.0, ""
            self._emit(self.summary())

    def _emit(self, line: str) -> None:
        self.out(line)
        self.last_line = self.clock()
        write_status(self.target, self.status())

    def _tick(self) -> None:
        while not self._stop.wait(min(1.0, self.every / 4)):
            if self.clock() - self.last_line >= self.every:
                self.update()
