"""Tools to test guarded code offline: a real OpenAI- and Anthropic-compatible HTTP server on
127.0.0.1 that plays back scripted answers, so reasks, usage and errors travel over a real
connection through the official SDKs."""

from guardkit.testing.llm_server import Answer, ScriptedLLMServer

__all__ = ["Answer", "ScriptedLLMServer"]
