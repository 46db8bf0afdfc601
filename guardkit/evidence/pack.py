"""Write and verify an evidence pack: Markdown and HTML per article, and a manifest of hashes.

The pack is written into a temporary folder beside the target and renamed into place, so a
crash leaves no half pack, and an existing pack is never overwritten. Everything but the dated
header of ``index.md``/``index.html`` is a deterministic function of the inputs.
"""

from __future__ import annotations

import hashlib
import html
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from markdown_it import MarkdownIt

from guardkit._version import __version__
from guardkit.errors import ConfigError
from guardkit.evidence.sections import SECTIONS
from guardkit.evidence.sources import Evidence, Source

__all__ = ["MANIFEST", "build_pack", "verify_pack"]

MANIFEST = "MANIFEST.sha256"
_MD = MarkdownIt("commonmark").enable("table")
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}code{background:#f6f6f6}"
)


def _html(title: str, markdown: str) -> str:
    body = _MD.render(markdown)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _index(ev: Evidence, built_at: datetime) -> str:
    rows = []
    for source in ev.sources():
        if isinstance(source, Source):
            rows.append(f"| {source.label} | `{source.path}` | `{source.sha256}` |")
        else:
            rows.append(f"| {source.label} | MISSING: {source.reason} | — |")
    contents = "\n".join(f"- [{name}]({name}.html) ([Markdown]({name}.md))" for name in SECTIONS)
    return (
        "# Evidence pack\n\n"
        f"Built {built_at.isoformat(timespec='seconds')} by guardkit {__version__}.\n\n"
        "## Sources\nEvery figure in this pack cites one of these files by label and sha256.\n\n"
        "| input | path | sha256 |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "## Contents\n" + contents + "\n"
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_pack(ev: Evidence, out: Path, *, built_at: datetime | None = None) -> list[Path]:
    """Write the pack to ``out`` (which must not exist); returns the files written."""
    if out.exists():
        raise ConfigError("the pack folder exists; refusing to overwrite it", file=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        pages = {"index": _index(ev, built_at or datetime.now(UTC))}
        pages.update({name: render(ev) + "\n" for name, render in SECTIONS.items()})
        for name, markdown in pages.items():
            (staging / f"{name}.md").write_text(markdown, encoding="utf-8")
            (staging / f"{name}.html").write_text(_html(name, markdown), encoding="utf-8")
        files = sorted(p.name for p in staging.iterdir())
        manifest = "".join(f"{_sha256(staging / f)}  {f}\n" for f in files)
        (staging / MANIFEST).write_text(manifest, encoding="utf-8")
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(out.iterdir())


def verify_pack(pack: Path) -> list[str]:
    """Every problem with a pack: files missing, added or changed since the manifest was written."""
    manifest = pack / MANIFEST
    if not manifest.is_file():
        return [f"{MANIFEST} is missing"]
    listed: dict[str, str] = {}
    problems = []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            problems.append(f"{MANIFEST} line {number} is malformed")
            continue
        listed[name] = digest
    present = {p.name for p in pack.iterdir() if p.name != MANIFEST}
    problems += [f"{name}: listed but missing" for name in sorted(set(listed) - present)]
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(listed))]
    problems += [
        f"{name}: sha256 does not match the manifest (changed)"
        for name in sorted(set(listed) & present)
        if _sha256(pack / name) != listed[name]
    ]
    return problems
