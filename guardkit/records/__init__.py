"""Tamper-evident records: a hash chain of reports and review decisions, with signed checkpoints."""

from guardkit.records.chain import ChainRecord, VerifyResult, canonical_json, verify_records
from guardkit.records.content import ContentRecorder
from guardkit.records.signing import checkpoint, generate_keys, verify_checkpoints
from guardkit.records.sink import ChainWriter, RecordSink
from guardkit.records.store import JsonlStore, RecordStore, SqliteStore, open_store

__all__ = [
    "ChainRecord",
    "ChainWriter",
    "ContentRecorder",
    "JsonlStore",
    "RecordSink",
    "RecordStore",
    "SqliteStore",
    "VerifyResult",
    "canonical_json",
    "checkpoint",
    "generate_keys",
    "open_store",
    "verify_checkpoints",
    "verify_records",
]
