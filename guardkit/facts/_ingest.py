"""Reading sources into documents, and documents into sentence-level facts.

One reader per file type, chosen from a dict by suffix. Every problem names its file and line:
a source that cannot be read is a ``FactIndexError`` before anything is embedded or written.

- ``.jsonl``: one object a line with ``id`` and ``text``; optional ``source``; other keys are kept
  as metadata. ``text`` may be a list of sentences, kept one fact each (fact ``<id>#<n>`` is
  sentence ``n``); ``doc_id`` and ``abstract`` are read as ``id`` and ``text``, so SciFact-style
  corpora (CitInt's ``corpus.jsonl``) index as they are. A document whose text is empty holds
  no facts: it is skipped with a ``SkippedDocumentsWarning`` naming its line (corpora have
  such rows); a source with no text at all is an error.
- ``.csv``: a header with ``id`` and ``text`` columns, the same meaning.
- ``.md`` / ``.markdown`` / ``.txt``: one document a file, its id the file name. Markdown markup
  (heading hashes, bullets, emphasis, link targets, code blocks) is blanked out with spaces, so
  every fact's character span still points into the original file. Headings are not facts (a
  title such as "Warranty" states nothing): each fact carries its heading path as ``section``
  metadata ("Help centre > Warranty"), for citations and filters.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guardkit._jsonl import DuplicateKeyError, encodable, loads
from guardkit.errors import FactIndexError, UnknownNameError
from guardkit.facts._segment import sentence_spans

__all__ = [
    "Document",
    "FactRow",
    "SkippedDocumentsWarning",
    "read_source",
    "read_sources",
    "split_facts",
]


@dataclass(frozen=True)
class Document:
    """One source document: its id, text, where it came from, and free metadata."""

    id: str
    text: str
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    """``file:line`` it was read from, for error messages."""
    breaks: tuple[int, ...] = ()
    """Offsets where a fact must end regardless of punctuation (Markdown block starts)."""
    spans: tuple[tuple[int, int], ...] | None = None
    """Sentences given by the source (a JSONL list of sentences): fact ``n`` is sentence ``n``."""
    sections: tuple[tuple[int, str], ...] = ()
    """``(offset, heading path)`` in order: facts from ``offset`` on belong to that section."""


@dataclass(frozen=True)
class FactRow:
    """One sentence of a document, ready to embed and store."""

    fact_id: str
    doc_id: str
    source: str
    start: int
    end: int
    text: str
    metadata: dict[str, Any]


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)  # 1-based, as JSONL readers say
        raise FactIndexError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} (byte {column} of the line)",
            file=str(path),
            line=line,
            hint="re-encode the file as UTF-8",
        ) from None


_ALIASES = {"id": ("id", "doc_id"), "text": ("text", "abstract")}
"""Key names accepted per field: ``doc_id`` / ``abstract`` read SciFact-style corpora as is."""


class SkippedDocumentsWarning(UserWarning):
    """Documents of a source were left out because they hold no text (the rest was indexed)."""


def _field(raw: dict[str, Any], name: str, path: Path, line: int) -> tuple[str, Any]:
    """The first alias of ``name`` with a value; else, for text, the first one present even if
    empty (the document is skipped), and an error if there is none."""
    present = [key for key in _ALIASES[name] if raw.get(key) is not None]
    for key in present:
        if raw[key] not in ("", []):
            return key, raw[key]
    if present and name == "text":
        return present[0], raw[present[0]]
    raise FactIndexError(f"missing {name!r}", file=str(path), line=line, loc=(name,))


def _text_and_spans(
    value: Any, key: str, path: Path, line: int
) -> tuple[str, tuple[tuple[int, int], ...] | None]:
    """A string is segmented later; a list of strings is already sentences, kept one fact each."""
    if isinstance(value, str):
        return value, None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FactIndexError(
            f"{key!r} must be a string or a list of strings", file=str(path), line=line, loc=(key,)
        )
    spans, cursor = [], 0
    for sentence in value:
        spans.append((cursor, cursor + len(sentence)))
        cursor += len(sentence) + 1
    return "\n".join(value), tuple(spans)


def _record(raw: Any, path: Path, line: int) -> Document:
    if not isinstance(raw, dict):
        raise FactIndexError("expected an object with 'id' and 'text'", file=str(path), line=line)
    id_key, doc_id = _field(raw, "id", path, line)
    if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
        raise FactIndexError(
            f"{id_key!r} must be a string or integer", file=str(path), line=line, loc=(id_key,)
        )
    text_key, value = _field(raw, "text", path, line)
    text, spans = _text_and_spans(value, text_key, path, line)
    for key, given in ((id_key, str(doc_id)), (text_key, text)):
        if not encodable(given):
            raise FactIndexError(
                f"{key!r} holds a lone surrogate escape (such as \\ud800), not text",
                file=str(path),
                line=line,
                loc=(key,),
            )
    source = str(raw.get("source") or doc_id)
    meta = {k: v for k, v in raw.items() if k not in (id_key, text_key, "source")}
    return Document(str(doc_id), text, source, meta, f"{path}:{line}", spans=spans)


def _read_jsonl(path: Path) -> Iterator[Document]:
    # "\n" only: str.splitlines also breaks inside strings at U+2028, U+2029 and U+0085
    for n, line in enumerate(_decode(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            raw = loads(line)
        except DuplicateKeyError as exc:
            raise FactIndexError(str(exc), file=str(path), line=n) from None
        except json.JSONDecodeError as exc:
            raise FactIndexError(
                f"invalid JSON: {exc.msg} (column {exc.colno})", file=str(path), line=n
            ) from None
        except RecursionError:
            raise FactIndexError(
                "invalid JSON: nested too deeply", file=str(path), line=n
            ) from None
        yield _record(raw, path, n)


def _read_csv(path: Path) -> Iterator[Document]:
    # strict: an unclosed quote is an error, not a field that swallows the rows after it
    reader = csv.reader(io.StringIO(_decode(path), newline=""), strict=True)
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # one huge document in one field is still a document
    try:
        header: list[str] | None = None
        while True:
            start = reader.line_num + 1  # the record about to be read starts here
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise FactIndexError(
                    f"malformed CSV record: {exc} (a quote opened here is not closed, or text "
                    'follows a closing quote; write a quote inside quoted text as "")',
                    file=str(path),
                    line=start,
                ) from None
            if not row:  # a blank line
                continue
            if header is None:
                header = _csv_header(row, path, start)
                continue
            if len(row) > len(header):  # an unquoted comma in the text
                raise FactIndexError(
                    f"row has {len(row)} fields, the header {len(header)} "
                    "(quote text that holds commas)",
                    file=str(path),
                    line=start,
                )
            fields = dict(zip(header, [*row, *[None] * (len(header) - len(row))], strict=True))
            yield _record(fields, path, start)
        if header is None:
            _csv_header([], path, 1)
    finally:
        csv.field_size_limit(limit)


def _csv_header(row: list[str], path: Path, line: int) -> list[str]:
    missing = {"id", "text"} - set(row)
    if missing:
        raise FactIndexError(
            f"CSV header lacks column(s) {', '.join(sorted(missing))}", file=str(path), line=line
        )
    repeated = sorted({name for name in row if row.count(name) > 1})
    if repeated:
        raise FactIndexError(
            f"CSV header repeats column(s) {', '.join(repeated)}", file=str(path), line=line
        )
    return row


_MD_BLANK = [
    re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+)", re.M),
    re.compile(r"(?:\*\*|__|`+|~~)"),
    # Bounded and stopping at the next opener: unbounded scans backtracked across a whole line
    # for every "[" or "<" in it (a 400 KB one-line file took 54 s against 1 s as plain text).
    re.compile(r"!?\[(?=[^\[\]\n]{0,300}\]\([^()\n]{0,500}\))"),
    re.compile(r"\]\([^()\n]{0,500}\)"),
    re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M),
    re.compile(r"<[^<>\n]{1,300}>"),
]
_TABLE_RULE = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
"""A table's delimiter line (``|---|:--:|`` or ``--- | ---``), under its header line."""
_CELL_PIPE = re.compile(r"(?<!\\)\|")
_FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", re.M | re.S)
_BLOCK_START = re.compile(r"^[ \t]{0,3}(?:#{1,6}|>|[-*+]|\d{1,9}[.)]|\|)[ \t]", re.M)
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+([^\n]*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_ONE_LINE = re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]|\|)[^\n]*\n", re.M)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _markdown_to_plain(text: str) -> str:
    """The same text with markup replaced by spaces: same length, so spans stay true."""
    text = _mask(text, _FENCE)
    for pattern in _MD_BLANK:
        text = _mask(text, pattern)
    return _tables_as_rows(text)


def _table_lines(text: str) -> list[tuple[int, int, bool]]:
    """``(start, end, is the delimiter)`` of each line of each table: a header line with a pipe,
    a delimiter line under it, and the lines with a pipe after it, up to a blank line."""
    lines, at = [], 0
    for line in text.split("\n"):
        lines.append((at, line))
        at += len(line) + 1
    found: list[tuple[int, int, bool]] = []
    i = 1
    while i < len(lines):
        rule = lines[i][1]
        header = lines[i - 1][1]
        if "|" in rule and "|" in header and header.strip() and _TABLE_RULE.fullmatch(rule):
            found.append((lines[i - 1][0], lines[i - 1][0] + len(header), False))
            found.append((lines[i][0], lines[i][0] + len(rule), True))
            i += 1
            while i < len(lines) and "|" in lines[i][1] and lines[i][1].strip():
                found.append((lines[i][0], lines[i][0] + len(lines[i][1]), False))
                i += 1
        i += 1
    return found


def _tables_as_rows(text: str) -> str:
    """Each table row one fact without its pipes ("| Express | 25 dollars |" reads "Express 25
    dollars"; an escaped "\\|" stays a pipe), its delimiter line blanked: same length."""
    out = list(text)
    for start, end, rule in _table_lines(text):
        line = text[start:end]
        new = " " * len(line) if rule else _CELL_PIPE.sub(" ", line).replace("\\|", " |")
        out[start:end] = new
    return "".join(out)


def _headings(original: str, plain: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """``plain`` with its headings blanked, and ``(end of heading, heading path)`` of each.

    A heading is the section of the facts below it, not a fact. Code blocks hold no headings.
    """
    out: list[tuple[int, str]] = []
    blanked = list(plain)
    open_levels: list[tuple[int, str]] = []
    for m in _HEADING.finditer(original):
        title = " ".join(plain[m.start(2) : m.end(2)].split())  # markup already blanked
        if not title:  # inside a fenced code block (blanked), or an empty heading
            continue
        level = len(m.group(1))
        while open_levels and open_levels[-1][0] >= level:
            open_levels.pop()
        open_levels.append((level, title))
        out.append((m.end(), " > ".join(t for _, t in open_levels)))
        blanked[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(blanked), tuple(out)


def _read_markdown(path: Path) -> Iterator[Document]:
    original = _decode(path)
    # Headings, list items, quotes and table rows need no full stop to end: a break where each
    # starts, and after each heading or table row (one line by definition).
    starts = {m.start() for m in _BLOCK_START.finditer(original)}
    ends = {m.end() for m in _ONE_LINE.finditer(original)}
    masked = _markdown_to_plain(original)
    rows = _table_lines(_mask(original, _FENCE))  # a row without outer pipes ends a fact too
    starts |= {start for start, _, _ in rows}
    ends |= {end for _, end, _ in rows}
    breaks = tuple(sorted(starts | ends))
    plain, sections = _headings(original, masked)
    meta = {"format": "markdown"}
    yield Document(path.name, plain, path.name, meta, f"{path}:1", breaks, sections=sections)


def _read_text(path: Path) -> Iterator[Document]:
    yield Document(path.name, _decode(path), path.name, {}, f"{path}:1")


_READERS: dict[str, Callable[[Path], Iterator[Document]]] = {
    ".jsonl": _read_jsonl,
    ".csv": _read_csv,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
}


def read_source(path: str | Path) -> list[Document]:
    """Every document in one source file; an empty source is an error, never a silent no-op."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UnknownNameError("source type", path.suffix or path.name, _READERS, file=str(path))
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "source file does not exist"
        raise FactIndexError(what, file=str(path))
    if not encodable(path.name):
        raise FactIndexError(
            "the file name is not UTF-8 (it becomes the document id)", file=repr(str(path))
        )
    read = list(reader(path))
    docs = [d for d in read if d.text.strip()]
    if not docs:
        raise FactIndexError("source has no documents with text", file=str(path))
    if len(docs) < len(read):
        _warn_skipped(path, [d for d in read if not d.text.strip()])
    return docs


def _warn_skipped(path: Path, empty: list[Document]) -> None:
    lines = [d.origin.rpartition(":")[2] for d in empty]
    shown = ", ".join(lines[:5]) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    noun = "document" if len(empty) == 1 else "documents"
    warnings.warn(
        SkippedDocumentsWarning(f"{path}: skipped {len(empty)} {noun} without text (line {shown})"),
        stacklevel=3,
    )


def read_sources(paths: Iterable[str | Path], known_ids: Iterable[str] = ()) -> list[Document]:
    """Documents from every source; a document id seen twice (or already indexed) is an error."""
    seen: dict[str, str] = dict.fromkeys(known_ids, "the index")
    out: list[Document] = []
    paths = list(paths)
    if not paths:
        raise FactIndexError("no sources given")
    given: set[Path] = set()
    for path in paths:
        resolved = Path(path).resolve()
        if resolved in given:
            raise FactIndexError("the same source is given twice", file=str(path))
        given.add(resolved)
        for doc in read_source(path):
            check_new_id(doc, seen)
            out.append(doc)
    return out


def check_new_id(doc: Document, seen: dict[str, str]) -> None:
    """Record ``doc.id`` in ``seen``, raising if it is already there (ids must be unique) or
    if a field is not what a document holds (a ``Document`` built in code is not validated)."""
    for field_name, kind in (("id", str), ("text", str), ("source", str), ("metadata", dict)):
        value = getattr(doc, field_name)
        if not isinstance(value, kind):
            raise FactIndexError(
                f"document {doc.id!r}: {field_name} must be a {kind.__name__}, "
                f"not {type(value).__name__}",
                loc=(field_name,),
            )
    if doc.id in seen:
        file, _, line = doc.origin.rpartition(":")
        raise FactIndexError(
            f"duplicate document id {doc.id!r} (first seen in {seen[doc.id]})",
            file=file or None,
            line=int(line) if line.isdigit() else None,
            loc=("id",),
            hint=(
                "a Markdown or text file's document id is its file name: rename one of the files"
                if file and Path(file).name == doc.id
                else "ids must be unique; to replace a document, delete the old one first "
                "(guardkit index delete DIR ID)"
            ),
        )
    seen[doc.id] = doc.origin or "the documents given"


def split_facts(doc: Document) -> list[FactRow]:
    """The document's sentences as facts, ids ``<doc id>#<n>``, spans into ``doc.text``."""
    rows = []
    spans = doc.spans if doc.spans is not None else sentence_spans(doc.text, doc.breaks)
    offsets = [offset for offset, _ in doc.sections]
    for n, (start, end) in enumerate(spans):
        if not doc.text[start:end].strip():
            continue
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(doc.text[start:end].split()))
        meta = doc.metadata
        section = bisect_right(offsets, start) - 1
        if section >= 0:
            meta = {**meta, "section": doc.sections[section][1]}
        rows.append(FactRow(f"{doc.id}#{n}", doc.id, doc.source, start, end, text, meta))
    return rows
