"""What several test modules share: the data folder, the smallest runs, results without timings."""
from __future__ import annotations

import json
import os
from pathlib import Path

from gen_core.grid import grid
from gen_core.results import SUMMARY_TIMES

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / os.environ.get("GEN_DATA_DIR", "data")          # real MNIST: `make data` writes it
TIMINGS = (*SUMMARY_TIMES, "over_training_seconds", "seconds")


def mlp_a_runs() -> list:
    """The smoke grid's two MLP A GANs on MNIST (one epoch of 256 images each)."""
    return [c for c in grid("gan", "mnist", "smoke") if c.variant == "MLP A"]


def results_without_timings(run_dir: Path) -> dict:
    """Every results file of a run folder, with the wall-clock numbers taken out."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMINGS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    out = {f: strip(json.loads((run_dir / f).read_text()))
           for f in ("config.json", "history.json", "summary.json", "yardstick.json")}
    out["model.pt"] = (run_dir / "model.pt").read_bytes()
    return out


def job_of(cfg, printed: str) -> str:
    """The job id in the launcher's first line about `cfg`: "<run>: submitted (job 1234_0)"."""
    line = next(line for line in printed.splitlines() if line.startswith(cfg.run_name() + ": "))
    return line.rsplit("(job ", 1)[1].rstrip(")")
