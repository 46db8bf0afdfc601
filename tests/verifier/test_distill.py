from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support.pairs import office_pairs

from guardkit.errors import ConfigError, ModelError
from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier
from guardkit.verifier.training.distill import distill_verifier, main, teacher_logits
from guardkit.verifier.training.examples import SUPPORTED, UNSUPPORTED, Example
from guardkit.verifier.training.loop import (
    TrainConfig,
    batch_loss,
    distillation_loss,
    partial_label_loss,
)
from guardkit.verifier.training.model import keep_layers, load_trainable

torch.set_num_threads(1)


def test_distillation_loss_is_zero_at_the_teacher_and_grows_away_from_it() -> None:
    teacher = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    assert distillation_loss(teacher, teacher, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    near = distillation_loss(teacher + torch.tensor([0.1, 0.0, 0.0]), teacher, 2.0).item()
    far = distillation_loss(teacher.flip(1), teacher, 2.0).item()
    assert 0.0 < near < far


def test_batch_loss_mixes_labels_and_teacher_and_needs_the_teacher_everywhere() -> None:
    logits = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.5, 0.5]])
    batch = [
        Example("e", "c", SUPPORTED, "s", teacher=(3.0, -1.0, -1.0)),
        Example("e", "d", UNSUPPORTED, "s", teacher=(-1.0, 2.0, 0.0)),
    ]
    labels = partial_label_loss(logits, torch.tensor([SUPPORTED, UNSUPPORTED]))
    teacher = torch.tensor([e.teacher for e in batch])
    soft = distillation_loss(logits, teacher, 2.0)
    cfg = TrainConfig(distill_weight=0.7, distill_temperature=2.0)
    assert batch_loss(logits, batch, cfg).item() == pytest.approx(
        (0.3 * labels + 0.7 * soft).item()
    )
    assert batch_loss(logits, batch, TrainConfig()).item() == pytest.approx(labels.item())
    with pytest.raises(ValueError, match="teacher's logits on every example"):
        batch_loss(logits, [*batch[:1], Example("e", "c", SUPPORTED, "s")], cfg)


def test_keep_layers_cuts_the_encoder_and_refuses_layers_it_does_not_have() -> None:
    model, _ = load_trainable(DEFAULT_MODEL)
    last = model.bert.encoder.layer[5]
    keep_layers(model, [0, 5])
    assert len(model.bert.encoder.layer) == 2 and model.bert.encoder.layer[1] is last
    assert model.bert.config.num_hidden_layers == 2
    with pytest.raises(ValueError, match=r"not all in the model's 0\.\.1"):
        keep_layers(model, [0, 2])
    with pytest.raises(ValueError, match="increasing and distinct"):
        keep_layers(model, [1, 0])


def test_the_student_never_overwrites_its_teacher_or_a_used_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="over its teacher"):
        distill_verifier(DEFAULT_MODEL, data=tmp_path)
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not an empty folder"):
        distill_verifier(used, data=tmp_path)
    assert (used / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"distill_temperature": 0.0}, "distill_temperature must be a number above 0"),
        ({"distill_temperature": float("inf")}, "distill_temperature must be a number above 0"),
        ({"lr": float("nan")}, "lr must be a number above 0"),
        ({"head_lr": -1.0}, "head_lr must be a number above 0"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"distill_weight": 1.5}, r"distill_weight is a share in \(0, 1\]"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"freeze_layers": 2}, "must leave some of the student's 2 layers"),
        ({"max_length": 512}, "cannot exceed the teacher's 128"),
    ],
)
def test_settings_that_would_fail_late_are_refused_first(
    tmp_path: Path, change: dict[str, float], message: str
) -> None:
    cfg = TrainConfig(**{"distill_weight": 0.7, "freeze_layers": 0, **change})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        distill_verifier(tmp_path / "s", layers=(0, 5), data=tmp_path / "no-data", cfg=cfg)
    assert not (tmp_path / "s").exists()


def test_the_working_folder_is_never_the_student(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    for out in (Path(), tmp_path):
        with pytest.raises(ConfigError, match="is the working folder or holds it"):
            distill_verifier(out, data=tmp_path)


def test_layers_the_teacher_lacks_and_mixed_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not all in the model's 0\.\.5"):
        distill_verifier(tmp_path / "s", layers=(0, 6), data=tmp_path)
    with pytest.raises(ConfigError, match="either data"):
        distill_verifier(tmp_path / "s", data=tmp_path, pairs=tmp_path / "p.jsonl")
    with pytest.raises(ConfigError, match="not to pairs"):
        distill_verifier(tmp_path / "s", pairs=tmp_path / "p.jsonl", repeat={"faithdial": 2})
    assert not (tmp_path / "s").exists()


def test_distill_command_line_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "s"), "--layers", "0,x", "--data", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "comma-separated numbers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "s")])
    assert exit_info.value.code == 2
    assert "give --data DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(DEFAULT_MODEL), "--data", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "over its teacher" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "s"), "--data", str(tmp_path / "missing")])
    assert exit_info.value.code == 2
    assert "missing" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_teacher_logits_are_the_teachers_on_the_cut_pair() -> None:
    teacher = OnnxVerifier(DEFAULT_MODEL, intra_op_threads=1)
    ev = "The warehouse in Lyon ships orders within two days."
    examples = [
        Example(ev, "Orders ship within two days.", SUPPORTED, "s"),
        Example(ev, "Orders ship within two days.", SUPPORTED, "s"),  # repeated: same logits
        Example(ev, "Orders ship within ten days.", UNSUPPORTED, "s"),
    ]
    labelled = teacher_logits(teacher, examples, 128)
    assert labelled[0].teacher == labelled[1].teacher
    _, direct = teacher.logits([(ev, "Orders ship within ten days.")])
    assert labelled[2].teacher == pytest.approx(tuple(direct[0]), abs=1e-5)
    assert [e.label for e in labelled] == [e.label for e in examples]


def _office_pairs(tmp_path: Path) -> Path:
    return office_pairs(tmp_path / "pairs.jsonl", 40)


def test_distill_a_two_layer_student_end_to_end(tmp_path: Path) -> None:
    """The shipped verifier taught to a 2-layer student on user pairs: exported, calibrated,
    described, loadable, and trainable again (a student can be adapted like its teacher)."""
    pairs = _office_pairs(tmp_path)
    out = tmp_path / "student"
    cfg = TrainConfig(budget_minutes=0.2, threads=1, freeze_layers=0, distill_weight=0.7)
    manifest = distill_verifier(out, layers=(0, 1, 2, 3, 5), pairs=pairs, cfg=cfg)
    assert manifest.training is not None and manifest.training.steps > 0
    distillation = manifest.training.distillation
    assert distillation is not None and distillation.layers == [0, 1, 2, 3, 5]
    assert distillation.teacher_seconds is not None and manifest.name == "student"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.jsonl", "student"]
    assert distillation.teacher == OnnxVerifier(DEFAULT_MODEL).manifest.name
    student = OnnxVerifier(out, intra_op_threads=1)
    assert len(student.predict([("The office is in Oslo.", "It is in Oslo.")])) == 1
    (out / "checkpoint").rename(tmp_path / "moved")  # only the int8 graph left, as shipped
    model, _ = load_trainable(out)
    assert len(model.bert.encoder.layer) == 5


def test_a_failed_run_leaves_no_student_and_no_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guardkit.verifier.training.distill as distill

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(distill, "finish", broken)
    cfg = TrainConfig(budget_minutes=0.05, threads=1, freeze_layers=0, distill_weight=0.7)
    with pytest.raises(OSError, match="disk full"):
        distill_verifier(tmp_path / "s", layers=(0, 5), pairs=_office_pairs(tmp_path), cfg=cfg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.jsonl"]


def test_the_recorded_command_names_the_module_only_when_it_ran(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import guardkit.verifier.training.distill as distill
    from guardkit.verifier.training.pipeline import command_line

    module = "guardkit.verifier.training.distill"
    monkeypatch.setattr("sys.argv", [distill.__file__, "--out", "my dir"])
    assert command_line(module) == f"python -m {module} --out 'my dir'"
    monkeypatch.setattr("sys.argv", ["my_distill.py", "--out", "x"])
    assert command_line(module) == "my_distill.py --out x"
    main_file = Path(distill.__file__).with_name("__main__.py")
    monkeypatch.setattr("sys.argv", [str(main_file), "--out", "x"])
    assert command_line() == "python -m guardkit.verifier.training --out x"


def test_a_student_that_learnt_too_little_is_refused_and_not_left(tmp_path: Path) -> None:
    """Two layers and four steps: the student calls a sentence checked against itself
    something other than supported, which every loader refuses; distill says so itself."""
    cfg = TrainConfig(budget_minutes=0.1, threads=1, freeze_layers=0, distill_weight=0.7)
    out = tmp_path / "student"
    with pytest.raises(ModelError, match="learnt too little") as info:
        distill_verifier(out, layers=(0, 5), pairs=_office_pairs(tmp_path), cfg=cfg)
    assert info.value.file == str(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.jsonl"]
