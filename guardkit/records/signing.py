"""Signed checkpoints: an ed25519 signature over the chain's length and head hash.

A checkpoint binds every record before it; with the public key kept apart from the log, even
someone who rewrites the whole chain consistently cannot forge the signatures.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from guardkit.errors import ConfigError
from guardkit.records.chain import ChainRecord
from guardkit.records.store import RecordStore

__all__ = [
    "checkpoint",
    "generate_keys",
    "load_private_key",
    "load_public_key",
    "verify_checkpoints",
]


def _message(count: int, head: str) -> bytes:
    return f"guardkit-checkpoint:{count}:{head}".encode()


def generate_keys(private_path: Path, public_path: Path) -> None:
    """Write a new ed25519 key pair as PEM files (the private one readable by its owner only)."""
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _pem(path: Path, kind: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {kind} key: {exc.strerror}", file=str(path)) from exc


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an ed25519 private key PEM file."""
    try:
        key = serialization.load_pem_private_key(_pem(path, "private"), password=None)
    except (ValueError, TypeError) as exc:  # not PEM, a public key, or encrypted
        raise ConfigError(f"not a readable private key PEM: {exc}", file=str(path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError("not an ed25519 private key", file=str(path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read an ed25519 public key PEM file."""
    try:
        key = serialization.load_pem_public_key(_pem(path, "public"))
    except ValueError as exc:  # not PEM, or a private key
        raise ConfigError(f"not a readable public key PEM: {exc}", file=str(path)) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError("not an ed25519 public key", file=str(path))
    return key


def checkpoint(store: RecordStore, key: Ed25519PrivateKey) -> ChainRecord:
    """Append a signed checkpoint over everything recorded so far."""
    last = None
    count = 0
    for record in store.records():
        if isinstance(record, str):
            raise ConfigError(f"cannot checkpoint a damaged log: {record}", file=str(store.path))
        last, count = record, count + 1
    if last is None:
        raise ConfigError("cannot checkpoint an empty log", file=str(store.path))
    signature = key.sign(_message(count, last.sha256)).hex()
    return store.append(
        "checkpoint", {"count": count, "head_sha256": last.sha256, "signature": signature}
    )


def verify_checkpoints(
    records: Iterable[ChainRecord], key: Ed25519PublicKey | None
) -> tuple[int, str | None]:
    """Check that every checkpoint describes the chain before it and, with ``key``, that its
    signature holds; the number checked, or the first failure. Without a key a forger who
    rewrote the checkpoints too goes unseen; one who did not is caught all the same."""
    count, head, verified = 0, "", 0
    for record in records:
        if record.kind == "checkpoint":
            data = record.data
            if data.get("count") != count or data.get("head_sha256") != head:
                return (
                    verified,
                    f"checkpoint at record {record.seq} does not describe the chain before it",
                )
            try:
                if key is not None:
                    signature = bytes.fromhex(str(data.get("signature", "")))
                    key.verify(signature, _message(count, head))
            except (InvalidSignature, ValueError):
                return verified, f"checkpoint at record {record.seq} has an invalid signature"
            verified += 1
        count, head = count + 1, record.sha256
    return verified, None
