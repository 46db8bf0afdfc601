"""``LocalModel``: a transformers causal LM generating under the engine chain's masks.

Every output is validated against the original output type before it is returned; an
output that fails (when the grammar was relaxed, an engine's masks were unsound, or no
engine compiled) is reasked with the error, and the last failure is raised with its evidence.
An output cut off by ``max_new_tokens`` is never returned: it raises ``OutputTruncated``.
Token counts use the report's ``Usage`` (input/output tokens), summed over attempts.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from guardkit.decoding import Constraint, DecodingInfo, EngineChain, OutputSpec, Vocab, output_spec
from guardkit.decoding._schema_walk import cap_strings
from guardkit.errors import OutputError
from guardkit.generation._mask import MaskLogitsProcessor
from guardkit.reports.model import Usage

__all__ = [
    "Completion",
    "Generation",
    "GenerationFailed",
    "LocalModel",
    "OutputTruncated",
]

_SCHEMA_PROMPT_CHARS = 4000


class Generation(BaseModel):
    """A validated output: ``text`` as generated, ``value`` as validated (model, dict, str)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    text: str
    value: Any
    usage: Usage
    info: DecodingInfo | None
    finish_reason: Literal["stop"]
    attempts: int = Field(ge=1)


class GenerationFailed(OutputError):
    """No valid output: carries the evidence (last text, usage, decoding info, attempts)."""

    def __init__(
        self,
        message: str,
        *,
        text: str,
        usage: Usage,
        info: DecodingInfo | None,
        attempts: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.text = text
        self.usage = usage
        self.info = info
        self.attempts = attempts


class OutputTruncated(GenerationFailed):
    """The model reached ``max_new_tokens`` before the output was complete."""

    code = "output_truncated"


class Completion(BaseModel):
    """One constrained generation, not yet validated (what a guard with its own reask needs)."""

    model_config = ConfigDict(frozen=True)
    text: str
    usage: Usage
    info: DecodingInfo | None
    finish_reason: Literal["stop", "length"]


class LocalModel:
    """A local model; ``generate`` returns only outputs that validate."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        chain: EngineChain | None = None,
        max_string_chars: int | None = 128,
    ) -> None:
        """``max_string_chars``: the grammar's ``maxLength`` for JSON strings the schema leaves
        unbounded (``None``: no cap). Small models otherwise tend to write a string until the
        token budget runs out; outputs still satisfy the original schema."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.vocab = Vocab(tokenizer, vocab_size=int(model.config.vocab_size))
        self.chain = chain or EngineChain()
        self.max_string_chars = max_string_chars
        self._lock = threading.Lock()

    @classmethod
    def embedded(cls) -> LocalModel:
        """The embedded SmolLM2-135M-Instruct, loaded once per process."""
        from guardkit.generation._registry import embedded

        return embedded()

    @classmethod
    def from_pretrained(cls, folder: str, **kwargs: Any) -> LocalModel:
        """A transformers model folder (safetensors + tokenizer), loaded offline."""
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        shown = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # a bar per load, mid-audit
        try:
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        finally:
            if shown:
                hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
        return cls(model, AutoTokenizer.from_pretrained(folder), **kwargs)

    def generate(
        self,
        prompt: str | list[dict[str, str]],
        output: Any = None,
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        reasks: int = 1,
    ) -> Generation:
        """Generate, constrained by ``output`` (pydantic model, schema dict/Path, Regex, Choice).

        ``temperature`` 0 is greedy. Raises ``OutputTruncated`` at ``max_new_tokens`` (not
        reasked: greedy decoding would repeat it), ``GenerationFailed`` when every attempt
        fails validation (both carry the evidence), ``SchemaDefinitionError`` for an output
        type that cannot be used.
        """
        spec = output_spec(output) if output is not None else None
        messages = self._messages(prompt, spec)
        usage = Usage()
        for attempt in range(1, reasks + 2):
            result = self._complete(messages, spec, max_new_tokens, temperature)
            usage = usage + result.usage
            info = result.info
            if result.finish_reason == "length":
                raise OutputTruncated(
                    f"output cut off at max_new_tokens={max_new_tokens}",
                    hint="raise max_new_tokens (--max-tokens on the command line) or simplify "
                    "the schema",
                    text=result.text,
                    usage=usage,
                    info=info,
                    attempts=attempt,
                )
            try:
                value = spec.validate(result.text) if spec else result.text
            except OutputError as exc:
                if attempt > reasks:
                    raise GenerationFailed(
                        exc.message,
                        loc=exc.loc,
                        text=result.text,
                        usage=usage,
                        info=info,
                        attempts=attempt,
                    ) from exc
                messages = [*messages, *_reask(result.text, exc)]
                continue
            return Generation(
                text=result.text,
                value=value,
                usage=usage,
                info=info,
                finish_reason="stop",
                attempts=attempt,
            )
        raise AssertionError("unreachable: the loop returns or raises")

    def complete(
        self,
        prompt: str | list[dict[str, str]],
        output: Any = None,
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Completion:
        """One constrained generation without validation or reask (the guard does both)."""
        spec = output_spec(output) if output is not None else None
        return self._complete(self._messages(prompt, spec), spec, max_new_tokens, temperature)

    def _complete(
        self,
        messages: list[dict[str, str]],
        spec: OutputSpec | None,
        max_new_tokens: int,
        temperature: float,
    ) -> Completion:
        info: DecodingInfo | None = None
        matcher = None
        if spec is not None:
            constraint, capped = self._capped(spec.constraint)
            compiled = self.chain.compile(constraint, self.vocab)
            info = compiled.info.model_copy(update={"capped": capped})
            matcher = compiled.grammar.matcher() if compiled.grammar else None
        text, usage, stopped = self._run(messages, matcher, max_new_tokens, temperature)
        return Completion(
            text=text, usage=usage, info=info, finish_reason="stop" if stopped else "length"
        )

    def _capped(self, constraint: Constraint) -> tuple[Constraint, list[str]]:
        """The constraint with unbounded strings capped, and where (unchanged if none)."""
        if self.max_string_chars is None or constraint.kind != "json_schema":
            return constraint, []
        schema, capped = cap_strings(constraint.schema_dict, self.max_string_chars)
        return (Constraint.json_schema(schema), capped) if capped else (constraint, [])

    def _messages(
        self, prompt: str | list[dict[str, str]], spec: OutputSpec | None
    ) -> list[dict[str, str]]:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        if spec is not None and spec.schema is not None:
            schema_text = json.dumps(spec.schema, separators=(",", ":"))[:_SCHEMA_PROMPT_CHARS]
            system = (
                f"Answer with one JSON value only, valid against this JSON Schema: {schema_text}"
            )
            messages = [{"role": "system", "content": system}, *messages]
        return messages

    def _run(
        self, messages: list[dict[str, str]], matcher: Any, max_new_tokens: int, temperature: float
    ) -> tuple[str, Usage, bool]:
        from transformers import GenerationConfig, LogitsProcessorList

        rendered = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        inputs = self.tokenizer(rendered, return_tensors="pt", add_special_tokens=False)
        eos = self.vocab.eos_ids[0]
        config = GenerationConfig(  # type: ignore[no-untyped-call]
            max_new_tokens=max_new_tokens,
            do_sample=temperature > 0,
            temperature=temperature if temperature > 0 else None,
            top_p=None,
            top_k=None,
            eos_token_id=eos,
            pad_token_id=eos,
        )
        processors = LogitsProcessorList()
        if matcher is not None:
            processors.append(MaskLogitsProcessor(matcher, self.vocab.size, eos))
        with self._lock, torch.inference_mode():
            out = self.model.generate(
                **inputs, generation_config=config, logits_processor=processors
            )
        new = out[0, inputs["input_ids"].shape[1] :].tolist()
        stopped = bool(new) and new[-1] == eos
        body = new[:-1] if stopped else new
        prompt_tokens = int(inputs["input_ids"].shape[1])
        text = self.tokenizer.decode(body, skip_special_tokens=True)
        return text, Usage(input_tokens=prompt_tokens, output_tokens=len(new)), stopped


def _reask(text: str, error: OutputError) -> list[dict[str, str]]:
    return [
        {"role": "assistant", "content": text},
        {"role": "user", "content": f"That answer is invalid: {error.message}. Answer again."},
    ]
