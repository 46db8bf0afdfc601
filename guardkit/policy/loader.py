"""Load policy files, reporting every problem with its file, line and field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from guardkit.errors import PolicyError, PolicyIssue
from guardkit.policy.model import ACTION_TYPES, Policy, cross_section_problems

__all__ = ["load_policy"]

Loc = tuple[str | int, ...]


def _line_index(node: yaml.Node, path: Loc, index: dict[Loc, int]) -> None:
    """Map every field path in a YAML document to the (1-based) line where it is written."""
    index.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            index[child] = key.start_mark.line + 1
            _line_index(value, child, index)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), index)


def _duplicate_keys(node: yaml.Node, path: Loc, file: str) -> list[PolicyIssue]:
    """Keys written twice in one mapping: YAML keeps the last silently, so a second
    ``checks:`` further down would switch off every check the first one set."""
    issues = []
    if isinstance(node, yaml.MappingNode):
        first: dict[object, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            line = key.start_mark.line + 1
            if name is not None and name != "<<" and name in first:
                issues.append(
                    PolicyIssue(
                        f"duplicate key {name!r} (first written on line {first[name]})",
                        file,
                        line,
                        (*path, name),
                    )
                )
            elif name is not None:
                first[name] = line
            issues += _duplicate_keys(value, (*path, str(name)), file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            issues += _duplicate_keys(item, (*path, i), file)
    return issues


def _line_for(loc: Sequence[str | int], index: dict[Loc, int]) -> int | None:
    """The line of the deepest part of ``loc`` the file has (a missing field: its parent)."""
    parts = tuple(loc)
    while parts:
        if parts in index:
            return index[parts]
        parts = parts[:-1]
    return index.get(())


def _issues(exc: ValidationError, file: str, index: dict[Loc, int]) -> list[PolicyIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        loc = _file_loc(tuple(err["loc"]), index)
        message = err["msg"].removeprefix("Value error, ")
        issues.append(PolicyIssue(message, file, _line_for(loc, index), loc))
    return issues


def _file_loc(loc: Loc, index: dict[Loc, int]) -> Loc:
    """Remove the union tags pydantic puts in action locs (``actions.schema.reask.x``)."""
    out: Loc = ()
    for part in loc:
        is_tag = part in ACTION_TYPES and bool(out) and out[0] == "actions"
        if not is_tag or (*out, part) in index:
            out = (*out, part)
    return out


def load_policy(path: str | Path, *, without_lock: bool = False) -> Policy:
    """Read and validate a YAML policy; raises ``PolicyError`` listing every issue found.

    ``without_lock``: the risk lock the policy names is not read (``guardkit calibrate``
    writes it, so it may not exist yet, or be about to be replaced)."""
    path = Path(path)
    file = str(path)
    try:
        data_bytes = path.read_bytes()
        text = data_bytes.decode("utf-8")
    except OSError as exc:
        raise PolicyError(
            [PolicyIssue(f"cannot read policy: {exc.strerror}", file, None, ())]
        ) from exc
    except UnicodeDecodeError as exc:
        at = data_bytes.count(b"\n", 0, exc.start) + 1
        issue = f"not UTF-8 text: {exc.reason} (byte 0x{data_bytes[exc.start]:02x})"
        raise PolicyError([PolicyIssue(issue, file, at, ())]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([PolicyIssue(f"not valid YAML: {problem}", file, line, ())]) from exc
    if not isinstance(data, dict) or node is None:
        raise PolicyError([PolicyIssue("a policy must be a YAML mapping", file, 1, ())])
    duplicates = _duplicate_keys(node, (), file)
    if duplicates:
        raise PolicyError(duplicates)
    index: dict[Loc, int] = {}
    _line_index(node, (), index)
    return _validate(data, path, index, without_lock)


def _validate(
    data: dict[str, Any], path: Path, index: dict[Loc, int], without_lock: bool = False
) -> Policy:
    file = str(path)
    context = {"base_dir": str(path.parent), "without_lock": without_lock}
    try:
        return Policy.model_validate(data, context=context)
    except ValidationError as exc:
        issues = _issues(exc, file, index)
        issues += _check_issues(data, file, index, context)
        raise PolicyError(sorted(issues, key=lambda i: i.line or 0)) from exc
    except PolicyError as exc:
        located = [PolicyIssue(i.message, file, _line_for(i.loc, index), i.loc) for i in exc.issues]
        raise PolicyError(located) from exc


def _check_issues(
    data: dict[str, Any], file: str, index: dict[Loc, int], context: dict[str, Any]
) -> list[PolicyIssue]:
    """Problems across sections, found even when the rest of the policy is invalid."""
    checks, actions = data.get("checks"), data.get("actions")
    checks = checks if isinstance(checks, dict) else {}
    actions = actions if isinstance(actions, dict) else {}
    _, problems = cross_section_problems(checks, actions, context)
    return [PolicyIssue(msg, file, _line_for(loc, index), loc) for loc, msg in problems]
