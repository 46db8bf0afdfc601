"""Benchmark guardkit's verifier on data it was not trained or calibrated on.

    .venv/bin/python benchmarks/verifier.py --data ../shared/data --out verifier.json \
        [--model DIR] [--checkpoint DIR] [--qa-rows 400] [--summ-rows 60] [--nli-pairs 200]

- HaluEval test rows (0-based line i with i % 5 == 0), per task, through ``score_responses``
  exactly as ``guardkit score`` runs them: accuracy and balanced accuracy of ``hallucinated``,
  AUROC and ECE of ``risk``; and, for reference, the AUROC of response length alone and how many
  claims the context states word for word (supported without the model).
  Contexts: qa = knowledge + question; dialogue = knowledge + dialogue history; summarization =
  document. The first N test rows of each task are used (N per the flags, said in the output).
- CitInt claims_test with gold evidence: 3-way macro-F1 (NEI claims against their cited abstract).
- Held-out parts of the NLI sets (never trained on): 3-way accuracy where labels are 3-way,
  and AUROC / balanced accuracy of "supported" vs not for every set.
- Backends: torch fp32 (the training checkpoint), onnxruntime fp32 (exported here) and int8 (the
  model folder): pairs/s at exactly 128 tokens, 2 threads (torch and onnx fp32 in batches of 32,
  int8 alone as the runtime runs it and in batches of 32); accuracy on the same pairs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier  # noqa: E402
from guardkit.verifier._quotes import states_verbatim  # noqa: E402
from guardkit.verifier.metrics import auroc, balanced_accuracy, ece, macro_f1  # noqa: E402
from guardkit.verifier.scoring import score_responses  # noqa: E402
from guardkit.verifier.training.citint import citint_pairs  # noqa: E402
from guardkit.verifier.training.examples import SUPPORTED, UNSUPPORTED  # noqa: E402
from guardkit.verifier.training.halueval import TASKS, response_pairs, rows  # noqa: E402
from guardkit.verifier.training.nli_sets import NLI_READERS  # noqa: E402


def halueval(v: OnnxVerifier, data: Path, limits: dict[str, int]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for task in TASKS:
        items: list[tuple[str, str, int]] = []
        for n, (_, row) in enumerate(rows(data / "halueval", task, "test")):
            if n >= limits[task]:
                break
            items += response_pairs(task, row)
        t0 = time.perf_counter()
        res = score_responses(v, [(c, r) for c, r, _ in items])
        secs = time.perf_counter() - t0
        y = np.array([h for _, _, h in items])
        risk = np.array([r.risk for r in res])
        flag = np.array([int(r.hallucinated) for r in res])
        length = np.array([len(r.split()) for _, r, _ in items])
        quoted = sum(
            states_verbatim(c, claim.claim)
            for (c, _, _), r in zip(items, res, strict=True)
            for claim in r.claims
        )
        out[task] = {
            "rows": limits[task],
            "responses": len(items),
            "claims": sum(len(r.claims) for r in res),
            "claims_stated_word_for_word": quoted,
            "accuracy": float((flag == y).mean()),
            "balanced_accuracy": balanced_accuracy(y, flag),
            "auroc": auroc(y, risk),
            "ece": ece(y, risk),
            "length_only_auroc": auroc(y, length),
            "seconds": round(secs, 1),
        }
        print(task, out[task], flush=True)
    return out


def citint(v: OnnxVerifier, data: Path) -> dict[str, float]:
    pairs = citint_pairs(data / "citint", "test")
    probs = v.probs_array([(e.evidence, e.claim) for e in pairs])
    y = np.array([e.label for e in pairs])
    pred = probs.argmax(1)
    sup = (y == SUPPORTED).astype(int)
    res = {
        "pairs": len(pairs),
        "macro_f1_3way": macro_f1(y, pred, 3),
        "accuracy_3way": float((pred == y).mean()),
        "supported_auroc": auroc(sup, probs[:, 0]),
        "supported_ece": ece(sup, probs[:, 0]),
    }
    print("citint", res, flush=True)
    return res


def nli_heldout(v: OnnxVerifier, data: Path, per_set: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    rng = random.Random(0)
    for name, reader in NLI_READERS.items():
        _, held = reader(data / "nli")
        if not held:
            continue
        sample = rng.sample(held, min(per_set, len(held)))
        probs = v.probs_array([(e.evidence, e.claim) for e in sample])
        y = np.array([e.label for e in sample])
        sup = (y == SUPPORTED).astype(int)
        res: dict[str, float] = {"pairs": len(sample)}
        res["supported_auroc"] = auroc(sup, probs[:, 0])
        res["supported_balanced_accuracy"] = balanced_accuracy(
            sup, (probs[:, 0] >= 0.5).astype(int)
        )
        res["supported_ece"] = ece(sup, probs[:, 0])
        if not (y == UNSUPPORTED).any():
            res["accuracy_3way"] = float((probs.argmax(1) == y).mean())
        out[name] = res
        print(name, res, flush=True)
    vals = [
        r["supported_auroc"] for r in out.values() if r["supported_auroc"] == r["supported_auroc"]
    ]
    bals = [r["supported_balanced_accuracy"] for r in out.values()]
    out["mean"] = {
        "supported_auroc": float(np.mean(vals)),
        "supported_balanced_accuracy": float(np.mean(bals)),
    }
    return out


def _fixed_128(tok_file: Path, n: int) -> list[tuple[str, str]]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tok_file))
    tok.no_truncation()
    tok.no_padding()
    words = ["the", "committee", "reviewed", "annual", "budget", "figures", "and", "approved"]
    words += ["spending", "on", "schools", "roads", "parks"]
    rng = random.Random(1)
    pairs = []
    for _ in range(n):
        ev = " ".join(rng.choice(words) for _ in range(100))
        claim = " ".join(rng.choice(words) for _ in range(24))
        enc = tok.encode(ev, claim)
        while len(enc.ids) > 128:
            ev = ev.rsplit(" ", 1)[0]
            enc = tok.encode(ev, claim)
        while len(enc.ids) < 128:
            ev += " " + rng.choice(words)
            enc = tok.encode(ev, claim)
        pairs.append((ev.rsplit(" ", 1)[0] if len(enc.ids) > 128 else ev, claim))
    return pairs


def backends(
    v: OnnxVerifier, checkpoint: Path | None, data: Path, n_acc: int
) -> dict[str, dict[str, float]]:
    import torch

    from guardkit.verifier.export import _encode, export_folder, load_torch_classifier

    torch.set_num_threads(2)
    speed_pairs = _fixed_128(v.folder / "tokenizer.json", 256)
    _, held = NLI_READERS["esnli"](data / "nli")
    acc_pairs = random.Random(2).sample(held, n_acc)
    y = np.array([e.label for e in acc_pairs])
    short = [(e.evidence, e.claim) for e in acc_pairs]
    out: dict[str, dict[str, float]] = {}

    def onnx_row(verifier: OnnxVerifier) -> dict[str, float]:
        verifier.probs_array(speed_pairs[:32])
        t0 = time.perf_counter()
        verifier.logits(speed_pairs)
        pps = len(speed_pairs) / (time.perf_counter() - t0)
        pred = verifier.probs_array(short).argmax(1)
        return {"pairs_per_s_128": pps, "esnli_test_accuracy": float((pred == y).mean())}

    out["onnx_int8"] = onnx_row(v)  # the runtime's default: each pair alone
    print("int8", out["onnx_int8"], flush=True)
    out["onnx_int8_batch32"] = onnx_row(OnnxVerifier(v.folder, intra_op_threads=2, batch_size=32))
    print("int8 batch 32", out["onnx_int8_batch32"], flush=True)
    if checkpoint is None:
        return out
    model, _, tok_file, _ = load_torch_classifier(checkpoint)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tok_file))
    tok.no_truncation()
    tok.no_padding()
    with torch.inference_mode():
        feed = {k: torch.from_numpy(a) for k, a in _encode(tok, speed_pairs[:32]).items()}
        model(**feed)
        t0 = time.perf_counter()
        for lo in range(0, len(speed_pairs), 32):
            feed = {
                k: torch.from_numpy(a) for k, a in _encode(tok, speed_pairs[lo : lo + 32]).items()
            }
            model(**feed)
        pps = len(speed_pairs) / (time.perf_counter() - t0)
        preds = []
        for lo in range(0, len(short), 32):
            feed = {k: torch.from_numpy(a) for k, a in _encode(tok, short[lo : lo + 32]).items()}
            preds.append(model(**feed).argmax(1).numpy())
    out["torch_fp32"] = {
        "pairs_per_s_128": pps,
        "esnli_test_accuracy": float((np.concatenate(preds) == y).mean()),
    }
    print("torch", out["torch_fp32"], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        m = export_folder(checkpoint, Path(tmp), int8=False, max_length=v.manifest.max_length)
        data_m = json.loads((Path(tmp) / "manifest.json").read_text())
        data_m["calibration"] = v.manifest.calibration.model_dump(mode="json")
        (Path(tmp) / "manifest.json").write_text(json.dumps(data_m))
        out["onnx_fp32"] = onnx_row(OnnxVerifier(tmp))
        out["onnx_fp32"]["parity_max_abs_diff"] = m.parity[0].max_abs_diff
    print("fp32", out["onnx_fp32"], flush=True)
    base = out["torch_fp32"]["pairs_per_s_128"]
    for k in out:
        out[k]["speedup_vs_torch"] = out[k]["pairs_per_s_128"] / base
    return out


def _f(x: object, nd: int = 3) -> str:
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def render_markdown(r: dict) -> str:
    """The results as Markdown tables (the section merged into benchmarks/RESULTS.md)."""
    out = [
        f"Date {r['date']}; model `{r['model']}`; machine {r['machine']}.",
        "",
        f"`{r['command']}`",
        "",
    ]
    if "halueval_test" in r:
        out += [
            "| HaluEval test (i % 5 == 0) | rows | accuracy | balanced acc. | AUROC | ECE "
            "| length-only AUROC | claims stated word for word |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for task, m in r["halueval_test"].items():
            out.append(
                f"| {task} | {m['rows']} | {_f(m['accuracy'])} | {_f(m['balanced_accuracy'])} | "
                f"{_f(m['auroc'])} | {_f(m['ece'])} | {_f(m['length_only_auroc'])} | "
                f"{m['claims_stated_word_for_word']} of {m['claims']} |"
            )
        out.append("")
    if "citint_test" in r:
        c = r["citint_test"]
        out += [
            "| CitInt claims_test, gold evidence | pairs | 3-way macro-F1 | 3-way acc. "
            "| supported AUROC | ECE |",
            "|---|---|---|---|---|---|",
            f"| | {c['pairs']} | {_f(c['macro_f1_3way'])} | {_f(c['accuracy_3way'])} | "
            f"{_f(c['supported_auroc'])} | {_f(c['supported_ece'])} |",
            "",
        ]
    if "nli_heldout" in r:
        out += [
            "| held-out NLI part | pairs | supported AUROC | supported bal. acc. | ECE "
            "| 3-way acc. |",
            "|---|---|---|---|---|---|",
        ]
        for name, m in r["nli_heldout"].items():
            out.append(
                f"| {name} | {m.get('pairs', '')} | {_f(m['supported_auroc'])} | "
                f"{_f(m['supported_balanced_accuracy'])} | {_f(m.get('supported_ece', ''))} | "
                f"{_f(m.get('accuracy_3way', ''))} |"
            )
        out.append("")
    if "backends" in r:
        out += [
            "| backend | pairs/s at 128 tokens (2 threads) | x torch fp32 | e-SNLI test acc. |",
            "|---|---|---|---|",
        ]
        for name, m in r["backends"].items():
            out.append(
                f"| {name} | {_f(m['pairs_per_s_128'], 1)} | "
                f"{_f(m.get('speedup_vs_torch', ''), 2)} | "
                f"{_f(m['esnli_test_accuracy'])} |"
            )
        out.append("")
    return "\n".join(out)


def record(model: Path, result: dict[str, Any]) -> None:
    """Write the figures measured here into the model folder's manifest (``metrics``)."""
    from guardkit.verifier.manifest import read_manifest, write_manifest

    figures: dict[str, float] = {}
    for task, m in result.get("halueval_test", {}).items():
        for key in ("accuracy", "auroc", "ece", "rows"):
            figures[f"test_halueval_{task}_{key}"] = float(m[key])
    if "citint_test" in result:
        figures["test_citint_macro_f1_3way"] = float(result["citint_test"]["macro_f1_3way"])
    if "nli_heldout" in result:
        for key, value in result["nli_heldout"]["mean"].items():
            figures[f"heldout_nli_mean_{key}"] = float(value)
    manifest = read_manifest(model)
    write_manifest(model, manifest.model_copy(update={"metrics": manifest.metrics | figures}))
    print(f"recorded {len(figures)} figures in {model / 'manifest.json'}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--checkpoint", type=Path, default=None, help="training output, for torch fp32")
    p.add_argument("--qa-rows", type=int, default=400)
    p.add_argument("--dialogue-rows", type=int, default=400)
    p.add_argument("--summ-rows", type=int, default=60)
    p.add_argument("--nli-pairs", type=int, default=200)
    p.add_argument("--acc-pairs", type=int, default=300)
    p.add_argument("--skip", nargs="*", default=[])
    p.add_argument("--markdown", type=Path, default=None, help="also write Markdown tables here")
    p.add_argument("--record", action="store_true", help="write the figures into the manifest")
    a = p.parse_args()
    import transformers

    transformers.logging.set_verbosity_error()
    v = OnnxVerifier(a.model, intra_op_threads=2)
    t0 = time.time()
    result: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "model": v.manifest.name,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
        "threshold": v.manifest.threshold,
    }
    limits = {"qa": a.qa_rows, "dialogue": a.dialogue_rows, "summarization": a.summ_rows}
    if "halueval" not in a.skip:
        result["halueval_test"] = halueval(v, a.data, limits)
    if "citint" not in a.skip:
        result["citint_test"] = citint(v, a.data)
    if "nli" not in a.skip:
        result["nli_heldout"] = nli_heldout(v, a.data, a.nli_pairs)
    if "backends" not in a.skip:
        result["backends"] = backends(v, a.checkpoint, a.data, a.acc_pairs)
    result["seconds"] = round(time.time() - t0, 1)
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    if a.record:
        record(a.model, result)
    if a.markdown is not None:
        a.markdown.write_text(render_markdown(result) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
