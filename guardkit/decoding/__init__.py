"""Schema enforcement: provider structured-output transforms (the engine chain lands next)."""
