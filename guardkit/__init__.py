"""guardkit: guardrails and reliability evidence around existing LLM calls.

@guardkit.guard(policy="policies/invoice.yaml", output=Invoice)
def extract(text: str, messages: list[dict] | None = None) -> str: ...

result = extract(text)            # a GuardResult: .output, .report, .ok
"""

from guardkit._version import __version__
from guardkit.checks import Check, CheckContext, CheckResult, register_check
from guardkit.errors import (
    ConfigError,
    GuardFailed,
    GuardkitError,
    OutputError,
    PolicyError,
    ProviderError,
    SchemaDefinitionError,
)
from guardkit.facts import FactIndex
from guardkit.guard import GuardResult, guard
from guardkit.policy import Policy, load_policy
from guardkit.providers.openai import wrap
from guardkit.reports import GuardReport, LedgerSummary, Outcome, ReliabilityLedger, default_ledger

__all__ = [
    "Check",
    "CheckContext",
    "CheckResult",
    "ConfigError",
    "FactIndex",
    "GuardFailed",
    "GuardReport",
    "GuardResult",
    "GuardkitError",
    "LedgerSummary",
    "Outcome",
    "OutputError",
    "Policy",
    "PolicyError",
    "ProviderError",
    "ReliabilityLedger",
    "SchemaDefinitionError",
    "__version__",
    "default_ledger",
    "guard",
    "load_policy",
    "register_check",
    "wrap",
]
