from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


from guardkit.reports import ReliabilityLedger
from guardkit.testing import ScriptedLLMServer as LLMServer


@pytest.fixture(scope="session")
def llm_server() -> Iterator[LLMServer]:
    server = LLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def server(llm_server: LLMServer) -> LLMServer:
    llm_server.answer()
    return llm_server


@pytest.fixture
def ledger() -> ReliabilityLedger:
    return ReliabilityLedger()
