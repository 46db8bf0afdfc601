"""Atomic writes: the file appears whole with plain-open permissions, or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from guardkit._files import staged_folder, write_atomic
from guardkit.errors import ConfigError


def test_written_file_has_the_permissions_open_would_give(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    target = tmp_path / "report.json"
    write_atomic(target, "{}\n")
    assert target.read_text() == "{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_a_folder_in_the_way_is_a_config_error_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(ConfigError) as err:
        write_atomic(tmp_path / "out", "x")
    assert err.value.file == str(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_unwritable_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot write the output"):
        write_atomic(blocker / "report.json", "x")


def test_a_staged_folder_replaces_the_old_one_only_when_finished(tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "weights").write_text("old")
    with pytest.raises(RuntimeError, match="killed"), staged_folder(out) as staging:
        (staging / "weights").write_text("half")
        raise RuntimeError("killed")
    assert (out / "weights").read_text() == "old"  # untouched, and no staging left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    with staged_folder(out) as staging:
        (staging / "weights").write_text("new")
    assert (out / "weights").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    with staged_folder(tmp_path / "fresh") as staging:
        (staging / "weights").write_text("first")
    assert (tmp_path / "fresh" / "weights").read_text() == "first"


def test_the_working_folder_cannot_be_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for out in (Path(), tmp_path.parent):
        with pytest.raises(ConfigError, match="working folder or holds it"), staged_folder(out):
            pass
    assert list(tmp_path.iterdir()) == []
