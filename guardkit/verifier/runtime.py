"""Scoring (evidence, claim) pairs with an exported model folder on onnxruntime.

One :class:`OnnxVerifier` holds one ``InferenceSession`` (thread-safe for concurrent ``run``)
and one ``tokenizers`` tokenizer; ``predict`` may be called from many threads at once. Inputs are
windowed (see :mod:`guardkit.verifier._windows`), sorted by length and run in batches padded only
to the longest input of the batch. A claim that is word for word a sentence of its evidence is
supported without running the model (see :mod:`guardkit.verifier._quotes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from guardkit._onnx import OneByOne, check_pinned_files, cpu_session, default_threads
from guardkit.errors import ConfigError, ModelError
from guardkit.verifier._negations import spell_out_negations
from guardkit.verifier._quotes import states_verbatim
from guardkit.verifier._windows import Segment, fold, plan_windows
from guardkit.verifier.manifest import MANIFEST_NAME, read_manifest
from guardkit.verifier.signals import RESPONSE_SIGNALS, SIGNALS
from guardkit.verifier.types import LABELS, VerdictProbs

__all__ = ["OnnxVerifier"]

_REQUIRED = ("model.onnx", "tokenizer.json")


class OnnxVerifier:
    """A verifier model folder (``model.onnx``, ``tokenizer.json``, ``manifest.json``), loaded."""

    def __init__(
        self,
        folder: str | Path,
        *,
        intra_op_threads: int | None = None,
        batch_size: int | None = None,
        max_windows: int | None = 6,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ModelError("model folder does not exist", file=str(self.folder))
        self.manifest = read_manifest(self.folder)
        check_pinned_files(self.folder, self.manifest.files, _REQUIRED, MANIFEST_NAME)
        # int8 runs each window alone: dynamic quantization scales activations per batch, so a
        # batched pair's probabilities would depend on its neighbours (by up to 0.05).
        self.batch_size = batch_size or (1 if self.manifest.quantized else 32)
        self.threads = intra_op_threads or default_threads()
        self._alone = OneByOne(self.threads if self.batch_size == 1 else 1)
        self.max_windows = max_windows
        try:
            self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises its own untyped errors
            raise ModelError(
                f"tokenizer.json is not a tokenizer: {exc}",
                file=str(self.folder / "tokenizer.json"),
            ) from exc
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        pair_len = len(self.tokenizer.encode("a", "b").ids)
        self._special = pair_len - 2
        self.session = cpu_session(
            self.folder / "model.onnx", 1 if self.batch_size == 1 else self.threads
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._columns = self._label_columns()
        self._check_signals()
        self._check_outputs()

    def _label_columns(self) -> np.ndarray:
        m = self.manifest
        where = str(self.folder / "manifest.json")
        missing = [lab for lab in m.labels if lab not in m.label_map]
        if missing:
            raise ModelError(f"label_map has no entry for {missing}", file=where)
        verdicts = [m.label_map[lab] for lab in m.labels]
        if len(set(m.labels)) != len(m.labels) or len(set(verdicts)) != len(verdicts):
            raise ModelError(
                f"each output needs its own label and verdict; labels {m.labels} map to {verdicts}",
                file=where,
                loc=("labels",),
            )
        cols = np.zeros((len(m.labels), len(LABELS)))
        for i, verdict in enumerate(verdicts):
            cols[i, LABELS.index(verdict)] = 1.0
        return cols

    def _check_signals(self) -> None:
        cal = self.manifest.calibration
        known = {*SIGNALS, *RESPONSE_SIGNALS}
        for field, weights in (
            ("signal_weights", cal.signal_weights),
            ("slope_weights", cal.slope_weights),
        ):
            unknown = sorted(set(weights) - known)
            if unknown:
                raise ModelError(
                    f"calibration uses unknown signals {unknown}; known: {sorted(known)}",
                    file=str(self.folder / "manifest.json"),
                    loc=("calibration", field),
                )

    def _check_outputs(self) -> None:
        """Run the model once on the largest input ids and the longest input the folder
        promises, and count its outputs: a tokenizer from another model, a too-long
        ``max_length`` or a label list of the wrong length fail here, not halfway through
        scoring."""
        manifest = str(self.folder / "manifest.json")
        top = self.tokenizer.get_vocab_size() - 1
        for ids, blame, what in (
            ([top] * 8, str(self.folder / "tokenizer.json"), "ids beyond the model's vocabulary"),
            (
                [min(top, 1000)] * self.manifest.max_length,
                manifest,
                f"max_length {self.manifest.max_length} beyond the model's positions",
            ),
        ):
            feed = {
                "input_ids": np.asarray([ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
                "token_type_ids": np.zeros((1, len(ids)), dtype=np.int64),
            }
            try:
                self._run({k: v for k, v in feed.items() if k in self._inputs})
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise ModelError(f"the model cannot run {what}: {exc}", file=blame) from exc
        logits = self._run(self._encode([Segment(0, 0, "The sky is blue.", "The sky is blue.")]))
        if logits.shape[-1] != len(self.manifest.labels):
            raise ModelError(
                f"the model has {logits.shape[-1]} outputs but the manifest lists "
                f"{len(self.manifest.labels)} labels {self.manifest.labels}",
                file=manifest,
                loc=("labels",),
            )

    def identity_verdict(self) -> str:
        """The verdict on a sentence checked against itself: a sound model with its labels in
        the right order says ``supported`` (``guardkit models info`` warns otherwise; loading
        does not refuse, since a weakly adapted model may be what the user wants to inspect)."""
        probs = self.model_probs([("The sky is blue.", "The sky is blue.")])[0]
        return LABELS[int(np.argmax(probs))]  # the model's own answer, not the verbatim rule

    def _encode(self, segs: Sequence[Segment]) -> dict[str, np.ndarray]:
        claim_first = self.manifest.pair_order == "claim_evidence"
        texts = [(s.claim, s.evidence) if claim_first else (s.evidence, s.claim) for s in segs]
        encs = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encs):
            n = min(len(e.ids), self.manifest.max_length)
            ids[i, :n], types[i, :n], mask[i, :n] = e.ids[:n], e.type_ids[:n], 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return {k: v[:, : self.manifest.max_length] for k, v in feed.items() if k in self._inputs}

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        out: np.ndarray = self.session.run(None, feed)[0]
        return out.astype(np.float64)

    def encoded_logits(self, feeds: Sequence[Mapping[str, np.ndarray]]) -> np.ndarray:
        """Raw logits of inputs already encoded, one pair per feed (shape ``(1, tokens)``):
        a teacher labelling exactly the cut pairs its student trains on."""
        if not feeds:
            return np.zeros((0, len(self.manifest.labels)))
        rows = self._alone.map(
            lambda feed: self._run({k: v for k, v in feed.items() if k in self._inputs})[0], feeds
        )
        return np.array(rows)

    def logits(self, pairs: Sequence[tuple[str, str]]) -> tuple[list[Segment], np.ndarray]:
        """Raw model logits for every window of every pair (for calibration and parity checks)."""
        _check_pairs(pairs)
        read = [(spell_out_negations(e), spell_out_negations(c)) for e, c in pairs]
        segs = plan_windows(
            self.tokenizer, read, self.manifest.max_length, self._special, self.max_windows
        )
        if self.batch_size == 1:
            rows = self._alone.map(lambda seg: self._run(self._encode([seg]))[0], segs)
            return segs, np.array(rows).reshape(len(segs), len(self.manifest.labels))
        lengths = [len(s.evidence) + len(s.claim) for s in segs]
        order = sorted(range(len(segs)), key=lengths.__getitem__)
        out = np.zeros((len(segs), len(self.manifest.labels)))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run(self._encode([segs[i] for i in idx]))
        return segs, out

    def probs_array(
        self, pairs: Sequence[tuple[str, str]], temperature: float | None = None
    ) -> np.ndarray:
        """Calibrated probabilities, shape ``(len(pairs), 3)``, columns in ``LABELS`` order."""
        _check_pairs(pairs)
        out = np.zeros((len(pairs), 3))
        quoted = [states_verbatim(evidence, claim) for evidence, claim in pairs]
        out[quoted] = (1.0, 0.0, 0.0)  # the evidence says it word for word: see _quotes
        rest = [i for i, q in enumerate(quoted) if not q]
        if rest:
            out[rest] = self.model_probs([pairs[i] for i in rest], temperature)
        return out

    def model_probs(
        self, pairs: Sequence[tuple[str, str]], temperature: float | None = None
    ) -> np.ndarray:
        """What the model alone says, as :meth:`probs_array` but without the verbatim rule."""
        if not pairs:
            return np.zeros((0, 3))
        segs, logits = self.logits(pairs)
        t = self.manifest.calibration.temperature if temperature is None else temperature
        z = logits / t
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return fold(segs, p @ self._columns, len(pairs))

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[VerdictProbs]:
        """One :class:`VerdictProbs` per (evidence, claim) pair."""
        rows = self.probs_array(pairs)
        out = []
        for s, c, n in rows:
            total = s + c + n
            out.append(
                VerdictProbs(supported=s / total, contradicted=c / total, not_enough_info=n / total)
            )
        return out


def _check_pairs(pairs: Sequence[tuple[str, str]]) -> None:
    for i, (evidence, claim) in enumerate(pairs):
        if not evidence.strip() or not claim.strip():
            which = "evidence" if not evidence.strip() else "claim"
            raise ConfigError(f"pair {i}: empty {which}", loc=(i, which))
