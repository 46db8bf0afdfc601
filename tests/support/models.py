from __future__ import annotations

from pydantic import BaseModel, Field


class Item(BaseModel):
    name: str
    quantity: int = Field(ge=1)
    price: float = Field(ge=0)


class Order(BaseModel):
    order_id: str
    items: list[Item]
    note: str | None = None
