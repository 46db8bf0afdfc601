"""Provider clients guardkit wraps (``providers.openai``), and the one boundary where errors
from providers and guarded calls are translated (``providers.errors``)."""
