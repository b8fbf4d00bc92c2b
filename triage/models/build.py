"""Build the default model in a process of its own, while `triage serve` already answers.

`start(settings)` (called by `triage serve`) runs `python -m triage.models.build` with the
same settings, relays its output to the server's log and reaps it. The child trains under
the build lock (`build_once`), prints a progress line at least every 10 seconds
and keeps the status file that `/readyz` reads. torch is imported only in the child: the
server process stays on onnxruntime.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from triage.models.progress import BUILDING, FAILED, BuildProgress, read_status, write_status
from triage.settings import Settings

Log = Callable[[str], None]


class Build:
    """A running build child: its output is relayed to `log` by a reaper thread."""

    def __init__(self, proc: subprocess.Popen[str], target: Path, log: Log) -> None:
        self.proc = proc
        self.target = target
        self.log = log
        self.reaper = threading.Thread(target=self._relay, name="model-build", daemon=True)
        self.reaper.start()

    def _relay(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log(line.rstrip("\n"))
        code = self.proc.wait()
        status = read_status(self.target)
        if code != 0 and (status or {}).get("state") != FAILED:
            write_status(self.target, {"state": FAILED, "pid": self.proc.pid,
                                       "error": f"the model build exited with code {code}"})

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child (the server is shutting down); the next start builds again."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.reaper.join(timeout)


def start(settings: Settings, log: Log) -> Build:
    """Start building the default model for `settings` in a child process."""
    target = settings.resolved_model_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TRIAGE_HOME": str(settings.home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "triage.models.build", str(target)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, bufsize=1)
    # written here too, so a worker that starts before the child's first line sees it
    write_status(target, {"state": BUILDING, "phase": "prepare", "progress": 0.0,
                          "eta_s": None, "elapsed_s": 0, "pid": proc.pid})
    log(f"building the default model in the background (pid {proc.pid}); the API answers "
        "now and serves scores when the model is ready (GET /readyz shows progress)")
    return Build(proc, target, log)


def main(argv: list[str]) -> int:
    """The child: build the default model into `argv[0]`, printing progress."""
    from triage.errors import TriageError
    from triage.models.default import build_once, samples_dir

    settings = Settings()
    target = Path(argv[0]) if argv else settings.resolved_model_dir()
    # SIGTERM (the server stopping) unwinds like Ctrl-C, so the half-built folder goes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    progress = BuildProgress(target, lambda line: print(line, flush=True)).start()
    try:
        build_once(target, samples_dir(settings), progress.log, settings.build_config)
    except TriageError as exc:
        progress.fail(exc.message)
        return 1
    except BaseException as exc:  # record why, then let it end the process
        progress.fail(f"{type(exc).__name__}: {exc}")
        raise
    progress.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
