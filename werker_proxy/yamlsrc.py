"""YAML loading that remembers where every value came from, so errors can say ``file:line``."""

from __future__ import annotations

from typing import Any

import yaml

from .errors import ConfigError


class Located:
    """Mixin: ``line`` of the node itself and ``lines[key]`` of each child (1-based)."""

    line: int
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LDict(dict, Located):  # type: ignore[type-arg]
    pass


class LList(list, Located):  # type: ignore[type-arg]
    pass


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
    loader.flatten_mapping(node)
    out = LDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ConfigError(loader.name, key_node.start_mark.line + 1, f"duplicate key {key!r}")
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LList:
    out = LList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = {i: child.start_mark.line + 1 for i, child in enumerate(node.value)}
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text; mappings and lists come back as ``LDict``/``LList`` with line numbers."""
    loader = _Loader(text)
    loader.name = source
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(source, line, f"invalid YAML: {e.problem or e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(source, None, f"invalid YAML: {e}") from None
    finally:
        loader.dispose()


def line_of(node: Any, key: Any = None, default: int | None = None) -> int | None:
    """Line of ``node[key]`` (or of ``node``) when the node carries locations."""
    if isinstance(node, Located):
        return node.line_of(key) if key is not None else node.line
    return default
