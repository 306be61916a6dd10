"""Read YAML into plain Python values that remember their line numbers.

PyYAML's constructors forget where a value came from and silently keep the last of two equal
keys. We compose the node graph instead (libyaml's C parser when available) and build the values
ourselves, so every mapping knows the line of each key, duplicate keys are errors, and YAML
aliases (the "billion laughs" expansion bomb) are refused before anything is expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Problem

try:  # libyaml is ~10x faster; the pure-Python loader gives identical nodes.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - wheels always ship libyaml
    _Loader = yaml.SafeLoader


@dataclass
class Map:
    """A YAML mapping: ``values`` by key, with the line of each key and of the mapping itself."""

    values: dict[str, Any]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)
    value_lines: dict[str, int] = field(default_factory=dict)
    """Line of the first content line of each value (for block scalars: the line after ``|``)."""


@dataclass
class Seq:
    """A YAML sequence with its line and the line of each item."""

    items: list[Any]
    line: int
    item_lines: list[int] = field(default_factory=list)


class YamlProblems(Exception):
    """The text is not YAML we accept; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


def _content_line(node: yaml.Node) -> int:
    """1-based line where a scalar's text starts (block scalars start below their indicator)."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        line += 1
    return line


def _scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    return loader.construct_object(node, deep=True)


_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}"
                        for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp"))
"""Tags of plain YAML values; any other tag (``!!python/object``, ``!!binary``, ``!foo``) is refused."""


def _tag_name(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def read(text: str, path: str) -> Any:
    """Parse ``text`` (the content of ``path``) into Map/Seq/scalars; raise YamlProblems."""
    problems: list[Problem] = []
    if text.startswith("\ufeff"):
        problems.append(Problem(path, 1, "the file starts with a byte-order mark; save it as UTF-8 without BOM"))
        raise YamlProblems(problems)
    # Tabs are reported only when they break the parse: inside a block scalar (``src: |``) a tab
    # after the indentation is content (Makefile recipes, Go code), not indentation.
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            problems.append(Problem(path, number, "a tab indents this line; YAML indentation must use spaces"))
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if any(p.line == line for p in problems):
            raise YamlProblems(problems) from None
        what = exc.problem or "invalid YAML"
        if exc.context:
            started = exc.context_mark.line + 1 if exc.context_mark else None
            at = f" that starts at line {started}" if started and started != line else ""
            what = f"{what} ({exc.context}{at})"
        raise YamlProblems([Problem(path, line, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(path, None, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise YamlProblems([Problem(path, 1, "the file is empty; expected a mapping with 'deck' and 'topics'")])
    problems.clear()  # the tabs (if any) were content

    seen: set[int] = set()
    reported: set[int] = set()
    constructor = yaml.SafeLoader("")

    def build(node: yaml.Node) -> Any:
        # An alias yields the very same node object twice: refusing revisits refuses aliases,
        # and with them any exponential expansion, in linear time.
        if id(node) in seen:
            if id(node) in reported:
                return None
            reported.add(id(node))
            problems.append(Problem(path, node.start_mark.line + 1,
                                    "YAML aliases (*name) are not supported; write the value out"))
            return None
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            return refuse_tag(node)
        if isinstance(node, yaml.MappingNode):
            result = Map({}, node.start_mark.line + 1)
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    problems.append(Problem(path, key_node.start_mark.line + 1, "mapping keys must be plain words"))
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    problems.append(Problem(path, key_node.start_mark.line + 1,
                                            "YAML merge keys (<<) are not supported; write the keys out"))
                    continue
                if key_node.tag not in _PLAIN_TAGS:
                    refuse_tag(key_node)
                    continue
                ok, key = scalar(key_node)
                if not ok:
                    continue
                key = str(key)
                line = key_node.start_mark.line + 1
                if key in result.values:
                    problems.append(Problem(
                        path, line, f"duplicate key '{key}' (first at line {result.key_lines[key]}); "
                        "YAML would silently keep only the last one"))
                    continue
                result.values[key] = build(value_node)
                result.key_lines[key] = line
                result.value_lines[key] = _content_line(value_node)
            return result
        if isinstance(node, yaml.SequenceNode):
            seq = Seq([], node.start_mark.line + 1)
            for item in node.value:
                seq.items.append(build(item))
                seq.item_lines.append(_content_line(item))
            return seq
        return scalar(node)[1]

    def refuse_tag(node: yaml.Node) -> None:
        problems.append(Problem(path, node.start_mark.line + 1,
                                f"YAML tag {_tag_name(node.tag)} is not supported; write plain values"))

    def scalar(node: yaml.Node) -> tuple[bool, Any]:
        try:
            return True, _scalar(constructor, node)
        except Exception as exc:  # noqa: BLE001 - !!int abc, 2001-13-45...: any failure is a bad value
            what = getattr(exc, "problem", None) or str(exc)
            problems.append(Problem(path, node.start_mark.line + 1, f"bad value {node.value!r}: {what}"))
            return False, None

    value = build(root)
    if problems:
        raise YamlProblems(problems)
    return value
