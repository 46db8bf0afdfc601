"""``load_local_model`` closes the schema it decodes by, a pydantic class included (no model
loaded: the embedded model is replaced by one that records what it is asked)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from guardkit.generation import LocalModel, load_local_model


class Order(BaseModel):
    order_id: str
    total: int


class _Recorder:
    def __init__(self) -> None:
        self.schemas: list[Any] = []

    def complete(self, messages: Any, schema: Any, max_new_tokens: int) -> Any:
        self.schemas.append(schema)
        raise RuntimeError("recorded")


@pytest.mark.parametrize("schema", [Order, Order.model_json_schema()], ids=["class", "dict"])
def test_a_pydantic_class_is_closed_like_its_json_schema(
    monkeypatch: pytest.MonkeyPatch, schema: Any
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(LocalModel, "embedded", classmethod(lambda cls: recorder))
    call = load_local_model(schema)
    with pytest.raises(RuntimeError, match="recorded"):
        call([{"role": "user", "content": "An order."}])
    (used,) = recorder.schemas
    assert used["additionalProperties"] is False and used["required"] == ["order_id", "total"]
