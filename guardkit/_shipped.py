"""Model folders shipped inside the package, found by their folder names (``guardkit models
list``), so a policy or a command can name one without knowing where guardkit is installed."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED_MODELS", "shipped_folder", "shipped_verifiers"]

SHIPPED_MODELS = Path(__file__).resolve().parent / "models"


def shipped_folder(name: str | Path) -> Path | None:
    """The shipped model folder called ``name``, if ``name`` is the bare name of one."""
    text = str(name)
    if not text or text.startswith((".", "~")) or "/" in text or "\\" in text:
        return None  # a path, even "./name": only a bare name means a shipped model
    path = Path(text)
    folder = SHIPPED_MODELS / path.name
    return folder if (folder / "manifest.json").is_file() else None


def shipped_verifiers() -> list[str]:
    """Folder names of the shipped verifiers (an embedder's manifest says its kind)."""
    import json

    names = []
    for manifest in sorted(SHIPPED_MODELS.glob("*/manifest.json")):
        if json.loads(manifest.read_text(encoding="utf-8")).get("kind") != "embedder":
            names.append(manifest.parent.name)
    return names
