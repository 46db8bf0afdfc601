"""``guardkit models``: export, fine-tune, list and inspect verifier and embedder model folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from guardkit.cli.index import typed_errors
from guardkit.errors import ConfigError

__all__ = ["app"]

app = typer.Typer(
    help="Model folders (verifiers, embedders): export, train, list, info.", no_args_is_help=True
)


@app.command("export")
def export(
    hf_dir: Annotated[Path, typer.Argument(help="Local Hugging Face classifier folder.")],
    out: Annotated[Path, typer.Option("--out", help="Model folder to write.")],
    int8: Annotated[bool, typer.Option("--int8/--fp32", help="Quantize weights to int8.")] = False,
) -> None:
    """Export a sequence-classification folder to ONNX (model.onnx, tokenizer.json, manifest)."""
    from guardkit.verifier.export import export_folder

    with typed_errors():
        if not hf_dir.is_dir():
            raise ConfigError("not a folder", file=str(hf_dir))
        manifest = export_folder(hf_dir, out, int8=int8)
    for p in manifest.parity:
        typer.echo(
            f"parity {p.compared}: max abs diff {p.max_abs_diff:.2e}, "
            f"argmax agreement {p.argmax_agreement:.3f} on {p.n_pairs} pairs"
        )
    typer.echo(f"exported {hf_dir} -> {out} (labels {', '.join(manifest.labels)})")


@app.command("export-embedder")
def export_embedder(
    out: Annotated[Path, typer.Option("--out", help="Embedder folder to write.")],
    source: Annotated[
        Path | None,
        typer.Option("--source", help="sentence-transformers folder (default: bundled MiniLM)."),
    ] = None,
    int8: Annotated[bool, typer.Option("--int8/--fp32", help="Quantize weights to int8.")] = True,
) -> None:
    """Export a mean-pooled sentence-transformers model to an ONNX embedder folder."""
    from guardkit.facts._embed_export import export_embedder as export_folder

    with typed_errors():
        if source is not None and not source.is_dir():
            raise ConfigError("not a folder", file=str(source))
        manifest = export_folder(out, source=source, int8=int8)
    for p in manifest.parity:
        typer.echo(
            f"parity {p.compared}: cosine min {p.cosine_min:.4f}, mean {p.cosine_mean:.4f} "
            f"on {p.n_texts} texts"
        )
    typer.echo(f"exported {manifest.source_model} -> {out} (model id {manifest.model_id})")


@app.command("train")
def train(
    pairs: Annotated[Path, typer.Option("--pairs", help="JSONL: evidence, claim, label.")],
    out: Annotated[Path, typer.Option("--out", help="Model folder to write.")],
    base: Annotated[
        Path | None,
        typer.Option(
            "--base",
            help="Verifier model folder, training output or HF encoder folder "
            "(default: the shipped verifier, adapted).",
        ),
    ] = None,
    budget_minutes: Annotated[float, typer.Option("--budget-minutes", min=0.1)] = 30.0,
    seed: Annotated[int, typer.Option("--seed")] = 13,
    threads: Annotated[int, typer.Option("--threads", min=1)] = 2,
) -> None:
    """Fine-tune and calibrate a verifier on your own labelled pairs (same recipe and manifest)."""
    from guardkit.errors import ConfigError
    from guardkit.verifier import model_folder
    from guardkit.verifier.training import TrainConfig, run
    from guardkit.verifier.training.mix import read_user_pairs
    from guardkit.verifier.training.pipeline import untrained_warning

    with typed_errors():
        read_user_pairs(pairs, seed)  # fail fast on bad input, before loading torch models
        base = model_folder(base)  # a shipped verifier may be named by its folder name
        if not base.exists():
            raise ConfigError("no such base model folder", file=str(base), loc=("base",))
        if out.resolve() == base or out.resolve() in base.parents:
            raise ConfigError("the model cannot be trained over its own base", loc=("out",))
        cfg = TrainConfig(budget_minutes=budget_minutes, seed=seed, threads=threads)
        manifest = run(out, pairs=pairs, base=base, cfg=cfg)
        problem = untrained_warning(out)
    if problem is not None:
        typer.echo(f"warning: {problem}", err=True)
    cal = manifest.calibration
    typer.echo(
        f"trained {manifest.training.steps if manifest.training else 0} steps -> {out}; "
        f"temperature {cal.temperature:.3f}, threshold {manifest.threshold:.3f}"
    )


@app.command("train-embedder")
def train_embedder(
    pairs: Annotated[
        Path, typer.Option("--pairs", help="JSONL: query, positive, optional negatives list.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Embedder folder to write.")],
    base: Annotated[
        Path | None,
        typer.Option("--base", help="sentence-transformers folder (default: bundled MiniLM)."),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 1,
    lr: Annotated[float, typer.Option("--lr", min=1e-7, help="Peak learning rate.")] = 2e-5,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = 32,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1)] = 2,
) -> None:
    """Fine-tune the fact embedder on your own (query, relevant passage) pairs, export int8.

    Indexes must be rebuilt with the new folder: an index refuses any other embedder.
    """
    from guardkit.facts.training import EmbedderTrainConfig, read_pairs
    from guardkit.facts.training import train_embedder as train_folder

    with typed_errors():
        if base is not None and not base.is_dir():
            raise ConfigError("not a folder", file=str(base))
        rows = read_pairs(pairs)  # fail fast on bad input, before loading torch
        config = EmbedderTrainConfig(
            epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, threads=threads
        )
        manifest = train_folder(rows, out, base=base, config=config, data=str(pairs))
    done = manifest.training
    typer.echo(
        f"trained {done.steps if done else 0} steps on {len(rows)} pairs -> {out} "
        f"(model id {manifest.model_id})"
    )


def _is_embedder(folder: Path) -> bool:
    """An embedder folder's manifest says ``"kind": "embedder"``; a verifier's has no kind."""
    try:
        kind = json.loads((folder / "manifest.json").read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return False  # the verifier reader reports what is wrong with the file
    return bool(kind == "embedder")


@app.command("list")
def list_models() -> None:
    """Model folders shipped inside the package."""
    from guardkit.facts._embed_onnx import DEFAULT_EMBEDDER, read_embedder_manifest
    from guardkit.verifier import DEFAULT_MODEL
    from guardkit.verifier.manifest import read_manifest

    root = DEFAULT_MODEL.parent
    with typed_errors():
        for folder in sorted(p for p in root.iterdir() if (p / "manifest.json").is_file()):
            size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6
            mark = " (default)" if folder in (DEFAULT_MODEL, DEFAULT_EMBEDDER) else ""
            if _is_embedder(folder):
                e = read_embedder_manifest(folder)
                typer.echo(
                    f"embedder {e.model_id}{mark}  {folder}  {size:.1f} MB  int8={e.quantized}"
                )
            else:
                m = read_manifest(folder)
                typer.echo(f"verifier {m.name}{mark}  {folder}  {size:.1f} MB  int8={m.quantized}")


@app.command("info")
def info(
    folder: Annotated[Path, typer.Argument(help="Model folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole manifest.")] = False,
) -> None:
    """Check a model folder (hashes; a verifier's labels against its outputs); show its manifest."""
    from guardkit._shipped import shipped_folder
    from guardkit.facts._embed_onnx import bundled_embedders

    if not folder.exists():  # a shipped model by folder name or id, as `models list` shows them
        folder = shipped_folder(folder) or bundled_embedders().get(str(folder), folder)
    if _is_embedder(folder):
        _embedder_info(folder, as_json)
        return
    from guardkit.verifier.runtime import OnnxVerifier

    with typed_errors():
        verifier = OnnxVerifier(folder, intra_op_threads=1)
        verdict = verifier.identity_verdict()
    m = verifier.manifest
    if as_json:
        typer.echo(json.dumps(m.model_dump(mode="json"), indent=2, sort_keys=True))
        return
    typer.echo(f"{m.name}: ok (hashes, labels, vocabulary and max length checked)")
    if verdict != "supported":
        typer.echo(
            f"warning: the model calls a sentence checked against itself {verdict!r}; its labels "
            f"{m.labels} may not be in the model's output order, or it is not trained yet",
            err=True,
        )
    typer.echo(f"labels {m.labels} -> {m.label_map}; max length {m.max_length}; int8 {m.quantized}")
    typer.echo(
        f"threshold {m.threshold:.3f}; aggregation {m.aggregation}; "
        f"temperature {m.calibration.temperature:.3f}"
    )
    distilled = m.training.distillation if m.training is not None else None
    if distilled is not None:
        typer.echo(
            f"distilled from {distilled.teacher}: its layers {distilled.layers}, "
            f"teacher's share of the loss {distilled.weight} at temperature "
            f"{distilled.temperature}"
        )
    for key, value in sorted(m.metrics.items()):
        typer.echo(f"  {key}: {value:.4f}")


def _embedder_info(folder: Path, as_json: bool) -> None:
    from guardkit.facts._embed_onnx import OnnxEmbedder

    with typed_errors():
        embedder = OnnxEmbedder(folder, threads=1)
        embedder.encode(["hashes are checked and the session opened here"])
    m = embedder.manifest
    if as_json:
        typer.echo(json.dumps(m.model_dump(mode="json"), indent=2, sort_keys=True))
        return
    typer.echo(f"{m.model_id}: ok (hashes checked, model runs)")
    typer.echo(f"from {m.source_model}; dim {m.dim}; max length {m.max_length}; int8 {m.quantized}")
    if m.training is not None:
        t = m.training
        typer.echo(
            f"fine-tuned from {t.base_model}: {t.pairs} pairs, {t.steps} steps, "
            f"final loss {t.final_loss:.3f}; data: {t.data}"
        )
    if m.distillation is not None:
        d = m.distillation
        agreement = (
            ""
            if d.held_out_cosine_mean is None
            else f"; cosine to it on {d.held_out} held-out texts {d.held_out_cosine_mean:.3f}"
        )
        typer.echo(
            f"distilled from {d.teacher_model}: layers {d.layers} of {d.base_model}, "
            f"{d.texts} texts, {d.steps} steps{agreement}"
        )
    for p in m.parity:
        typer.echo(f"  {p.compared}: cosine min {p.cosine_min:.4f}, mean {p.cosine_mean:.4f}")
