"""The Ray engine writes the same records as the local engine for the same inputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from guardkit.audit import AuditConfig, SourceSpec, read_records, run_audit

ray = pytest.importorskip("ray", reason="ray[data] is not installed")

# Ray Data copies its context attribute by attribute, tripping its own deprecation warnings
# for settings guardkit never touches (ray 2.60); only those, from that module, are ignored.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(address="local", include_dashboard=False, num_cpus=2, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_records_equal_local_records(
    local_ray: None, policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    spec = SourceSpec(kind="responses", policy=str(policy_file), responses=str(responses))
    outs = {}
    for engine, workers in (("local", 1), ("ray", 2)):
        outs[engine] = tmp_path / engine
        run_audit(
            AuditConfig(suite=suite, out=outs[engine], source=spec, engine=engine, workers=workers)
        )
    local = sorted(
        (r.comparable() for r in read_records(outs["local"] / "records.jsonl")),
        key=lambda r: r["id"],
    )
    remote = sorted(
        (r.comparable() for r in read_records(outs["ray"] / "records.jsonl")), key=lambda r: r["id"]
    )
    assert len(local) == 40
    assert remote == local
