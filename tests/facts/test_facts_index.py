from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import faiss
import pytest
from conftest import HashingEmbedder

from guardkit.errors import ConfigError, FactIndexError
from guardkit.facts import Document, FactIndex, IndexParams, default_embedder
from guardkit.facts._vectors import search_effort


def _docs(n: int, prefix: str = "d") -> list[Document]:
    return [
        Document(
            f"{prefix}{i}", f"Widget {prefix}{i} weighs {i} grams. It ships from depot {i}.", "cat"
        )
        for i in range(n)
    ]


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_real_embedder_finds_the_right_fact(saved_index: Path) -> None:
    index = FactIndex.load(saved_index)
    hits = index.search("How many days do I have to send an item back?", k=3)
    assert hits[0].fact_id == "returns#0" and hits[0].source == "help/returns"
    assert hits[0].text == "Items can be returned within 30 days of delivery."
    assert 0.4 < hits[0].score <= 1.0 and hits[0].score >= max(h.score for h in hits[1:])
    assert hits[1].doc_id == "returns"  # the best document's other fact comes next
    m = index.manifest
    assert m is not None
    assert (m.embedding_model, m.embedding_dim) == (
        "guardkit/embedder-minilm-l6-gk1+int8",
        384,
    )
    assert (m.fact_count, m.document_count, m.index.kind, m.generation) == (6, 3, "flat", 1)
    assert set(m.files) == {"index", "facts", "words"}
    warranty = [h for h in index.search("laptop warranty length", k=6) if h.doc_id == "warranty"]
    assert warranty[0].metadata == {"lang": "en"} and warranty[0].source == "warranty"


def test_add_delete_save_load_roundtrip(tmp_path: Path, hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    assert index.add_documents(_docs(3)) == 6
    index.save(tmp_path / "ix")
    loaded = FactIndex.load(tmp_path / "ix", embedder=hashing)
    assert len(loaded) == 6
    assert loaded.delete(["d1"]) == 2
    assert loaded.add_documents(_docs(2, prefix="e")) == 4
    manifest = loaded.save(tmp_path / "ix")
    assert (manifest.generation, manifest.fact_count, manifest.document_count) == (2, 8, 4)
    again = FactIndex.load(tmp_path / "ix", embedder=hashing)
    assert {h.doc_id for h in again.search("widget d1 weighs 1 grams", k=8)} == {
        "d0",
        "d2",
        "e0",
        "e1",
    }
    assert again.manifest is not None and again.manifest.content_sha256 == manifest.content_sha256


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (Document("n", 42, "s"), "text must be a str, not int"),  # type: ignore[arg-type]
        (Document("m", "Some text here.", None), "source must be a str"),  # type: ignore[arg-type]
        (Document(7, "Some text here.", "s"), "id must be a str"),  # type: ignore[arg-type]
    ],
)
def test_a_document_built_with_wrong_types_is_a_typed_error(
    hashing: HashingEmbedder, document: Document, message: str
) -> None:
    index = FactIndex(embedder=hashing)
    with pytest.raises(FactIndexError, match=message):
        index.add_documents([document])
    assert len(index) == 0


def test_delete_unknown_and_add_duplicate_are_refused(hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    with pytest.raises(ConfigError, match="no document with id 'zz'"):
        index.delete(["d0", "zz"])
    assert len(index) == 4
    with pytest.raises(FactIndexError, match="'d0' is already in the index"):
        index.add_documents(_docs(2))
    with pytest.raises(FactIndexError, match="no text to index"):
        index.add_documents([])
    with pytest.raises(ConfigError, match="k must be at least 1"):
        index.search("x", k=0)


def test_hnsw_deletes_are_tombstoned_then_compacted(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    index = FactIndex(embedder=hashing, index_type="hnsw", params=IndexParams(hnsw_m=8))
    index.add_documents(_docs(20))
    index.delete(["d3"])
    assert all(h.doc_id != "d3" for h in index.search("widget d3 weighs 3 grams depot 3", k=40))
    assert len(index.search("widget", k=40)) == 38
    manifest = index.save(tmp_path / "h")
    assert (manifest.index.kind, manifest.vector_count, manifest.fact_count) == ("hnsw", 40, 38)
    loaded = FactIndex.load(tmp_path / "h", embedder=hashing)
    assert len(loaded.search("widget", k=40)) == 38
    loaded.delete([f"d{i}" for i in range(10) if i != 3])
    manifest = loaded.save(tmp_path / "h")
    assert (manifest.vector_count, manifest.fact_count) == (20, 20)


def _effort(index: FactIndex) -> int:
    return int(faiss.downcast_index(index._vectors.index.index).hnsw.efSearch)


def test_hnsw_query_effort_follows_the_size_unless_pinned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hashing: HashingEmbedder
) -> None:
    assert [search_effort(IndexParams(), n) for n in (0, 150_000, 150_001, 300_001)] == [
        128,
        128,
        256,
        512,
    ]
    assert search_effort(IndexParams(ef_search=64), 1_000_000) == 64
    monkeypatch.setattr("guardkit.facts._vectors._EFFORT_BY_SIZE", ((10, 16), (30, 32)))
    index = FactIndex(embedder=hashing, index_type="hnsw", params=IndexParams(hnsw_m=8))
    index.add_documents(_docs(4))  # 8 facts
    assert _effort(index) == 16
    index.add_documents(_docs(4, prefix="e"))  # 16 facts: the next size up
    assert _effort(index) == 32
    manifest = index.save(tmp_path / "h")
    assert manifest.index.ef_search is None  # saved as "by size", chosen again on load
    monkeypatch.setattr("guardkit.facts._vectors._EFFORT_BY_SIZE", ((10, 16), (20, 24)))
    assert _effort(FactIndex.load(tmp_path / "h", embedder=hashing)) == 24
    pinned = FactIndex(embedder=hashing, index_type="hnsw", params=IndexParams(ef_search=40))
    pinned.add_documents(_docs(4))
    pinned.save(tmp_path / "p")
    assert _effort(FactIndex.load(tmp_path / "p", embedder=hashing)) == 40
    # Before format 3 every manifest named 512, the default then: read as "by size".
    for version, saved, loaded in ((2, 512, None), (2, 40, 40), (3, 512, 512)):
        raw = json.loads((tmp_path / "p" / "manifest.json").read_text())
        raw["format_version"], raw["index"]["ef_search"] = version, saved
        (tmp_path / "p" / "manifest.json").write_text(json.dumps(raw))
        old = FactIndex.load(tmp_path / "p", embedder=hashing)
        assert old.index_params.ef_search == loaded
        assert _effort(old) == (16 if loaded is None else loaded)  # 8 facts
    for version in ("2", 2.0, True):  # only guardkit's own integers are read
        raw["format_version"] = version
        (tmp_path / "p" / "manifest.json").write_text(json.dumps(raw))
        with pytest.raises(FactIndexError, match="invalid manifest") as info:
            FactIndex.load(tmp_path / "p", embedder=hashing)
        assert info.value.loc == ("format_version",)


def test_auto_index_switches_to_hnsw_above_threshold(
    monkeypatch: pytest.MonkeyPatch, hashing: HashingEmbedder
) -> None:
    monkeypatch.setattr("guardkit.facts._vectors.AUTO_THRESHOLD", 10)
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(4))
    assert index.index_params.kind == "flat"
    index.add_documents(_docs(4, prefix="e"))
    assert index.index_params.kind == "hnsw" and len(index) == 16
    assert len(index.search("widget", k=50)) == 12  # "It ships from depot i." twice each
    pinned = FactIndex(embedder=hashing, index_type="flat")
    pinned.add_documents(_docs(8))
    assert pinned.index_params.kind == "flat"


def test_another_embedding_model_is_refused(saved_index: Path, hashing: HashingEmbedder) -> None:
    with pytest.raises(FactIndexError) as info:
        FactIndex.load(saved_index, embedder=hashing)
    assert "built with embedding model 'guardkit/embedder-minilm-l6-gk1+int8'" in info.value.message
    assert info.value.file == str(saved_index / "manifest.json")
    assert info.value.loc == ("embedding_sha256",)


def test_a_manifest_edited_to_another_embedding_size_is_refused(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    index.save(tmp_path / "ix")
    manifest = tmp_path / "ix" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["embedding_dim"] = 768
    manifest.write_text(json.dumps(data))
    with pytest.raises(FactIndexError) as info:
        FactIndex.load(tmp_path / "ix", embedder=hashing)
    assert info.value.loc == ("embedding_dim",) and "embedding_dim 768" in info.value.message


def test_saving_over_something_else_writes_nothing(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(1))
    with pytest.raises(FactIndexError, match="not empty and holds no fact index"):
        index.save(other)
    assert _listing(other) == {"notes.txt": b"mine"}
    index.save(tmp_path / "ix")
    before = _listing(tmp_path / "ix")
    fresh = FactIndex(embedder=hashing)
    fresh.add_documents(_docs(1, prefix="z"))
    with pytest.raises(FactIndexError, match="holds another index"):
        fresh.save(tmp_path / "ix")
    assert _listing(tmp_path / "ix") == before


def test_stale_writer_cannot_overwrite_a_newer_save(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(1))
    index.save(tmp_path / "ix")
    a = FactIndex.load(tmp_path / "ix", embedder=hashing)
    b = FactIndex.load(tmp_path / "ix", embedder=hashing)
    a.add_documents(_docs(1, prefix="a"))
    a.save(tmp_path / "ix")
    b.add_documents(_docs(1, prefix="b"))
    with pytest.raises(FactIndexError, match="changed since this one was loaded"):
        b.save(tmp_path / "ix")
    assert len(FactIndex.load(tmp_path / "ix", embedder=hashing)) == 4


@pytest.mark.parametrize(
    "damage",
    [
        "missing_index",
        "missing_facts",
        "missing_words",
        "corrupt_index",
        "corrupt_facts",
        "corrupt_words",
        "words_of_another_index",
        "words_not_a_postings_file",
        "manifest_json",
        "manifest_field",
        "no_manifest",
        "count",
    ],
)
def test_broken_folders_fail_with_the_file_named(
    tmp_path: Path, hashing: HashingEmbedder, damage: str
) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    folder = tmp_path / "ix"
    manifest = index.save(folder)
    path_of = {k: folder / e.name for k, e in manifest.files.items()}
    mpath = folder / "manifest.json"
    raw = json.loads(mpath.read_text())
    expected_file = str(mpath)
    if damage.startswith("missing_"):
        path = path_of[damage.removeprefix("missing_")]
        path.unlink()
        expected_file, message = str(path), "missing index file"
    elif damage.startswith("corrupt_"):
        path = path_of[damage.removeprefix("corrupt_")]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        expected_file, message = str(path), "sha256 mismatch"
    elif damage.startswith("words_"):  # re-pinned in the manifest: only the content is wrong
        other = FactIndex(embedder=hashing)
        other.add_documents(_docs(3))
        other_manifest = other.save(tmp_path / "other")
        fake = {
            "words_of_another_index": (tmp_path / "other" / other_manifest.files["words"].name),
            "words_not_a_postings_file": None,
        }[damage]
        data = fake.read_bytes() if fake else b"not a postings file"
        path_of["words"].write_bytes(data)
        raw["files"]["words"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
        mpath.write_text(json.dumps(raw))
        expected_file = str(path_of["words"])
        message = "word postings hold 6 facts" if fake else "word postings unreadable"
    elif damage == "manifest_json":
        mpath.write_text('{\n  "format_version": 1,\n  oops\n}')
        message = "manifest is not valid JSON"
    elif damage == "manifest_field":
        raw["index"]["kind"] = "annoy"
        mpath.write_text(json.dumps(raw))
        message = "invalid manifest"
    elif damage == "count":
        raw["fact_count"] = 99
        mpath.write_text(json.dumps(raw))
        message = "manifest says 99 facts, the files hold 4"
    else:
        mpath.unlink()
        message = "missing manifest.json"
    with pytest.raises(FactIndexError) as info:
        FactIndex.load(folder, embedder=hashing)
    assert message in info.value.message
    assert info.value.file == expected_file


def test_readers_see_whole_generations_while_adds_are_saved(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    folder = tmp_path / "ix"
    writer = FactIndex(embedder=hashing)
    writer.add_documents(_docs(2))
    writer.save(folder)
    rounds, errors, sizes = 12, [], set()
    done = threading.Event()

    def write() -> None:
        for r in range(rounds):
            text = f"Widget r{r} weighs {r} kilos. It ships from store {r}."  # no copies
            writer.add_documents([Document(f"r{r}", text, "cat")])
            writer.save(folder)
        done.set()

    def read() -> None:
        while not done.is_set():
            try:
                reader = FactIndex.load(folder, embedder=hashing)
                n = len(reader)
                hits = reader.search("widget d0 weighs 0 grams", k=n)
                assert len(hits) == n and hits[0].doc_id == "d0"
                sizes.add(n)
            except Exception as exc:  # collected, asserted below
                errors.append(exc)

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(2))]
    for t in threads:
        t.start()
    for _ in range(50):  # the shared in-memory index is also searched during the adds
        assert writer.search("widget d0", k=1)[0].doc_id == "d0"
    for t in threads:
        t.join()
    assert errors == []
    assert sizes <= {4 + 2 * r for r in range(rounds + 1)}
    final = FactIndex.load(folder, embedder=hashing)
    assert len(final) == 4 + 2 * rounds and final.manifest is not None
    assert final.manifest.generation == rounds + 1
    assert len(list(folder.glob("index-*.faiss"))) == 2  # current and previous generation


def test_default_embedder_is_shared() -> None:
    assert default_embedder() is default_embedder()


def test_a_kind_that_does_not_match_the_faiss_file_names_it(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    manifest = index.save(tmp_path / "ix")
    raw = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    raw["index"]["kind"] = "hnsw"
    (tmp_path / "ix" / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(FactIndexError) as info:
        FactIndex.load(tmp_path / "ix", embedder=hashing)
    assert "does not match the manifest's index settings (hnsw)" in info.value.message
    assert info.value.file == str(tmp_path / "ix" / manifest.files["index"].name)


def test_a_data_file_that_is_a_folder_is_a_typed_error(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    manifest = index.save(tmp_path / "ix")
    facts = tmp_path / "ix" / manifest.files["facts"].name
    facts.unlink()
    facts.mkdir()
    with pytest.raises(FactIndexError, match="cannot read the facts file"):
        FactIndex.load(tmp_path / "ix", embedder=hashing)


def _disk_full(path: Path) -> None:
    raise OSError(28, "No space left on device")


def test_a_failed_save_leaves_no_files_and_the_old_index_whole(
    tmp_path: Path, hashing: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guardkit.facts._store import FactStore

    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    folder = tmp_path / "ix"
    index.save(folder)
    before = sorted(p.name for p in folder.iterdir())
    index.add_documents([Document("new", "A new fact about gears.", "new")])
    monkeypatch.setattr(FactStore, "write", lambda self, path: _disk_full(path))
    with pytest.raises(FactIndexError, match="cannot save the index: No space left on device"):
        index.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert len(FactIndex.load(folder, embedder=hashing)) == 4

    fresh = FactIndex(embedder=hashing)
    fresh.add_documents(_docs(1))
    with pytest.raises(FactIndexError):
        fresh.save(tmp_path / "new")
    assert list((tmp_path / "new").iterdir()) == []  # nothing that blocks the next build
    monkeypatch.undo()
    fresh.save(tmp_path / "new")
    assert len(FactIndex.load(tmp_path / "new", embedder=hashing)) == 2


def test_jsonl_text_may_hold_unicode_line_separators(tmp_path: Path) -> None:
    from guardkit.facts._ingest import read_source

    path = tmp_path / "u.jsonl"
    rows = [{"id": "a", "text": "One.\u2028Two.\u0085Three."}, {"id": "b", "text": "Four."}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    docs = read_source(path)
    assert [d.id for d in docs] == ["a", "b"] and docs[0].text.startswith("One.\u2028Two.")
