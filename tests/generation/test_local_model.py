"""Real generation with the embedded SmolLM2 through the chain (slow: loads the model)."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict, Field
from typer.testing import CliRunner

from guardkit.decoding import Choice, Regex
from guardkit.generation import LocalModel, OutputTruncated

pytestmark = pytest.mark.slow


class City(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=40)
    population: int = Field(ge=0)
    capital: bool


@pytest.fixture(scope="module")
def model() -> LocalModel:
    return LocalModel.embedded()


def test_pydantic_output_is_valid_and_reported(model):
    result = model.generate("Describe Paris.", City, max_new_tokens=80)
    assert isinstance(result.value, City)
    City.model_validate_json(result.text)
    assert result.info is not None and result.info.engine == "llguidance"
    assert result.usage.output_tokens > 0 and result.usage.input_tokens > 0
    assert result.finish_reason == "stop"


def test_free_strings_are_capped_for_generation_and_reported(model):
    schema = {
        "type": "object",
        "properties": {"story": {"type": "string"}},
        "required": ["story"],
        "additionalProperties": False,
    }
    result = model.generate("Tell a very long story about a dragon.", schema, max_new_tokens=120)
    assert len(result.value["story"]) <= 128
    assert result.info is not None and result.info.capped == ["/properties/story"]


def test_embedded_model_is_loaded_once(model):
    assert LocalModel.embedded() is model


def test_choice_and_regex(model):
    assert model.generate("Is water wet?", Choice(options=("yes", "no"))).value in {"yes", "no"}
    date = model.generate("A date:", Regex(pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}")).value
    assert len(date) == 10


def test_max_tokens_mid_object_is_reported_never_returned(model):
    with pytest.raises(OutputTruncated) as info:
        model.generate("Describe Paris.", City, max_new_tokens=4)
    assert info.value.code == "output_truncated"
    assert info.value.usage.output_tokens == 4
    with pytest.raises(ValueError):
        City.model_validate_json(info.value.text)


def test_sampled_generation_is_valid(model):
    result = model.generate("Describe Rome.", City, max_new_tokens=80, temperature=0.8)
    City.model_validate_json(result.text)


def test_cli_generate_prints_one_valid_document(tmp_path, model):
    from guardkit.cli import app

    schema = tmp_path / "city.json"
    schema.write_text(json.dumps(City.model_json_schema()), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["generate", "--schema", str(schema), "--prompt", "Describe Oslo.", "--max-tokens", "80"],
    )
    assert result.exit_code == 0, result.output
    City.model_validate_json(result.stdout.strip())


def test_unconstrained_output_is_validated_and_never_returned_invalid(model):
    from guardkit.decoding import EngineChain
    from guardkit.generation import GenerationFailed

    no_engines = LocalModel(model.model, model.tokenizer, chain=EngineChain([]))
    with pytest.raises(GenerationFailed) as info:
        no_engines.generate("Say hello.", {"const": "zebra-42"}, max_new_tokens=24, reasks=1)
    assert info.value.info is not None and info.value.info.engine == "unconstrained"
    assert info.value.attempts >= 1


def test_load_local_model_answers_as_a_guard_call(model):
    from guardkit.generation import load_local_model

    call = load_local_model(City.model_json_schema(), max_new_tokens=80)
    response = call([{"role": "user", "content": "Describe Oslo."}])
    City.model_validate_json(response.text)
    assert not response.truncated
    assert response.generation["engine"] == "llguidance"
    assert response.usage.output_tokens > 0
    short = load_local_model(City.model_json_schema(), max_new_tokens=3)
    assert short([{"role": "user", "content": "Describe Oslo."}]).truncated
