"""Fixer options: one dataclass per fixer is the single source of CLI flags and config keys.

A fixer declares ``Options`` as a dataclass whose fields use :func:`option`. The CLI builds its
flags from it, ``[tool.stabfix.<fixer>]`` is validated against it (an unknown key is an error
that names it), and the Python API accepts the same names as keyword arguments. Precedence:
defaults < config file < command line / API.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Union

from codemods.errors import ConfigError, UsageError


def option(
    default: Any = None,
    help: str = "",
    *,
    flag: str | None = None,
    short: str | None = None,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    config: bool = True,
    cli: bool = True,
    flag_value: Any = None,
) -> Any:
    """Declare one option field.

    ``flag`` overrides the long flag (default ``--field-name``); ``choices`` limits a string;
    ``config=False`` keeps it out of pyproject.toml (e.g. ``--only``); ``flag_value`` lets a flag
    take an optional value (``--until-clean`` alone means ``flag_value``). List defaults are copied.
    """
    meta = {
        "help": help,
        "flag": flag,
        "short": short,
        "metavar": metavar,
        "choices": choices,
        "config": config,
        "cli": cli,
        "flag_value": flag_value,
    }
    if isinstance(default, (list, dict, set)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """A resolved description of one option field."""

    name: str  # python name
    key: str  # config key / flag stem (kebab-case)
    kind: str  # "bool" | "int" | "float" | "str" | "path" | "list"
    optional: bool
    default: Any
    help: str
    flag: str
    short: str | None
    metavar: str | None
    choices: tuple[str, ...] | None
    config: bool
    cli: bool
    flag_value: Any


def _kind_of(tp: Any) -> tuple[str, bool]:
    optional = False
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) != len(typing.get_args(tp))
        tp = args[0] if len(args) == 1 else str
        origin = typing.get_origin(tp)
    if origin in (list, tuple) or tp in (list, tuple):
        return "list", optional
    if tp is bool:
        return "bool", optional
    if tp is int:
        return "int", optional
    if tp is float:
        return "float", optional
    if tp is Path:
        return "path", optional
    return "str", optional


def specs(options_cls: type) -> list[OptionSpec]:
    """The option specs of an Options dataclass, in declaration order."""
    hints = typing.get_type_hints(options_cls)
    out = []
    for f in dataclasses.fields(options_cls):
        kind, optional = _kind_of(hints[f.name])
        meta = f.metadata
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        key = f.name.replace("_", "-")
        out.append(
            OptionSpec(
                name=f.name,
                key=key,
                kind=kind,
                optional=optional,
                default=default,
                help=meta.get("help", ""),
                flag=meta.get("flag") or f"--{key}",
                short=meta.get("short"),
                metavar=meta.get("metavar"),
                choices=meta.get("choices"),
                config=meta.get("config", True),
                cli=meta.get("cli", True),
                flag_value=meta.get("flag_value"),
            )
        )
    return out


def split_list(values: Any) -> list[str]:
    """Accept ``["A,B", "C"]``, ``"A,B"`` or ``["A"]``: a flat list without blanks."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in str(v).split(",") if p.strip())
    return out


def coerce(spec: OptionSpec, value: Any, where: str) -> Any:
    """Convert a config/API/CLI value to the option's type or raise a clear error."""
    if value is None:
        return None
    try:
        if spec.kind == "bool":
            if isinstance(value, bool):
                return value
            raise TypeError
        if spec.kind == "int":
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        if spec.kind == "float":
            return float(value)
        if spec.kind == "path":
            return Path(str(value))
        if spec.kind == "list":
            if isinstance(value, (list, tuple)):
                return [str(v) for v in value]
            return split_list(value)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise TypeError
        value = str(value)
    except (TypeError, ValueError):
        kind = {"list": "a list of strings", "path": "a path"}.get(spec.kind, f"a {spec.kind}")
        raise ConfigError(f"{where}: `{spec.key}` must be {kind}, got {value!r}") from None
    if spec.choices and value not in spec.choices:
        raise UsageError(f"{where}: `{spec.key}` must be one of {', '.join(spec.choices)}, got {value!r}")
    return value


def build(options_cls: type, fixer: str, config: dict[str, Any], given: dict[str, Any]) -> Any:
    """Make an Options instance from the config table and explicitly given values.

    ``config`` is ``[tool.stabfix.<fixer>]`` (kebab-case keys); ``given`` uses python names or
    kebab-case keys (API / CLI); values that are None in ``given`` are treated as not given.
    """
    by_key = {s.key: s for s in specs(options_cls)}
    by_name = {s.name: s for s in by_key.values()}
    # API keywords may also be the flag's stem: dist's field `dist_mode` is the flag --mode, and
    # options={"mode": "loadscope"} is what its docs show
    by_flag = {s.flag.lstrip("-"): s for s in by_key.values() if s.cli and s.flag.lstrip("-") not in by_name}
    values: dict[str, Any] = {}
    where = f"[tool.stabfix.{fixer}]"
    for key, value in config.items():
        spec = by_key.get(key)
        if spec is None or not spec.config:
            known = ", ".join(sorted(s.key for s in by_key.values() if s.config)) or "none"
            raise ConfigError(f"{where}: unknown key `{key}` (known keys: {known})")
        values[spec.name] = coerce(spec, value, where)
    for name, value in given.items():
        spec = by_name.get(name) or by_key.get(name) or by_flag.get(name)
        if spec is None:
            known = ", ".join(sorted(by_name))
            raise UsageError(f"fixer {fixer!r} has no option {name!r} (options: {known})")
        if value is None or (spec.kind == "list" and value == [] and spec.name in values):
            continue
        values[spec.name] = coerce(spec, value, f"option {spec.flag}")
    return options_cls(**values)
