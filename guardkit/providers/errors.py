"""The one place where exceptions from providers and guarded calls are translated.

Each is kept as evidence (type and message) and classed as retryable or not, by the exception's
class name looked up along its MRO, so SDKs need not be installed for this table to apply. An
exception the table does not know is retried (an SDK's own network error, say).
"""

from __future__ import annotations

from guardkit.errors import ProviderError
from guardkit.reports.model import ErrorInfo

__all__ = ["describe_error"]

_RETRYABLE: dict[str, bool] = {
    # openai and anthropic SDKs
    "APITimeoutError": True,
    "APIConnectionError": True,
    "RateLimitError": True,
    "InternalServerError": True,
    "OverloadedError": True,
    "ServiceUnavailableError": True,
    "BadRequestError": False,
    "AuthenticationError": False,
    "PermissionDeniedError": False,
    "NotFoundError": False,
    "UnprocessableEntityError": False,
    "ConflictError": True,
    # the standard library
    "TimeoutError": True,
    "ConnectionError": True,
    "OSError": True,
    "JSONDecodeError": True,  # a body cut short in transit, before ValueError below
    "ValidationError": True,  # pydantic's: the sampled answer did not parse; another may
    # programming errors: asking again cannot help
    "TypeError": False,
    "ValueError": False,
    "LookupError": False,  # KeyError, IndexError
    "ArithmeticError": False,
    "AssertionError": False,
    "ImportError": False,
    "AttributeError": False,
    "NameError": False,
    "NotImplementedError": False,
    # guardkit misuse (ProviderError carries its own flag)
    "GuardkitError": False,
}


def describe_error(exc: BaseException) -> ErrorInfo:
    """Type, message and retryability of an exception raised by a guarded call."""
    if isinstance(exc, ProviderError):
        retryable = exc.retryable
    else:
        retryable = next(
            (_RETRYABLE[c.__name__] for c in type(exc).__mro__ if c.__name__ in _RETRYABLE), True
        )
    name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
    return ErrorInfo(type=name, message=str(exc)[:2000], retryable=retryable)
