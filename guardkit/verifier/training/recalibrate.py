"""Refit a model folder's calibration (temperature, risk fit, threshold) without retraining.

    python -m guardkit.verifier.training.recalibrate --model DIR --data ../shared/data

Uses only calibration data: CitInt claims_dev and HaluEval rows with ``i % 5 == 1`` (by default
1,000 rows per task, about 6,000 responses: the per-task ECE of fits on 200 rows swung by 0.03).
"""

from __future__ import annotations

import argparse
import logging
import random
from pathlib import Path

from guardkit._signals import exit_on_terminate
from guardkit.verifier.manifest import Manifest, read_manifest, write_manifest
from guardkit.verifier.runtime import OnnxVerifier
from guardkit.verifier.training.calibrate import fit_calibration
from guardkit.verifier.training.mix import Mix, calibration_data

__all__ = ["recalibrate"]

log = logging.getLogger("guardkit.verifier.training")


def recalibrate(model: Path, data: Path, calib_rows: int, seed: int, threads: int) -> Manifest:
    """Fit calibration on fresh calibration data and rewrite ``model/manifest.json``."""
    mix = Mix()
    calibration_data(mix, data, random.Random(seed), calib_rows)
    verifier = OnnxVerifier(model, intra_op_threads=threads)
    cal, how, threshold, metrics = fit_calibration(
        verifier, mix.calib_pairs, mix.calib_responses, mix.calibrated_on
    )
    old = read_manifest(model)
    keep = {k: v for k, v in old.metrics.items() if not k.startswith("calibration_")}
    new = old.model_copy(
        update={
            "calibration": cal,
            "aggregation": how,
            "threshold": threshold,
            "metrics": keep | metrics,
        }
    )
    write_manifest(model, Manifest.model_validate(new.model_dump()))
    log.info("calibration %s aggregation %s threshold %.3f", cal, how, threshold)
    return read_manifest(model)


def main() -> None:
    """Command line entry."""
    exit_on_terminate()
    p = argparse.ArgumentParser(prog="python -m guardkit.verifier.training.recalibrate")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--calib-rows", type=int, default=1000)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    recalibrate(a.model, a.data, a.calib_rows, a.seed, a.threads)


if __name__ == "__main__":
    main()
