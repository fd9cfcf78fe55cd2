"""The FastAPI auth-override pattern of the ``auth`` and ``auth-unpatch`` fixers, declared once.

:class:`PatternOptions` holds the ten pattern options (what to write and to recognise, defaults:
LiteLLM's ``app.dependency_overrides[ps.user_api_key_auth] = lambda: UserAPIKeyAuth(...)`` /
``pop``); both fixers' ``Options`` inherit it, so the CLI flags and ``[tool.stabfix.<fixer>]`` keys
come from this one declaration. :class:`AuthPattern` is the validated pattern a run works with,
built from a fixer's options (:meth:`AuthPattern.from_options`). :func:`inherit_auth_table` is how
``auth-unpatch`` falls back to the ``[tool.stabfix.auth]`` table for the keys it leaves at defaults.

This module imports no libcst: the fixers load it to build their ``Options``. The analysis
(:mod:`codemods.fixers.auth.coverage`, :mod:`codemods.fixers.auth.reach`) reads :mod:`ast` trees;
the libcst work (the edits) lives in :mod:`codemods.fixers.auth.codegen`; the fixers import them
inside ``fix``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codemods.core.options import option

if TYPE_CHECKING:
    from codemods.edit.importorder import ImportOrder

DEFAULT_FIXTURE_NAME = "override_user_api_key_auth"
#: the ``unittest.mock`` patchers both fixers recognise (a patch of the dependency does nothing for FastAPI)
PATCH_FUNCS = frozenset({"patch", "patch.object", "mock.patch", "mock.patch.object",
                         "unittest.mock.patch", "unittest.mock.patch.object"})


def split_target(spec: str) -> tuple[str, str]:
    """``"pkg.mod:attr"`` or ``"pkg.mod.attr"`` -> ``("pkg.mod", "attr")``."""
    if ":" in spec:
        module, _, attr = spec.partition(":")
    else:
        module, _, attr = spec.rpartition(".")
    if not module or not attr:
        raise ValueError(spec)
    return module, attr


@dataclass
class PatternOptions:
    """The pattern options shared by ``auth`` and ``auth-unpatch`` (their Options inherit them).

    Targets are ``module:attr`` (or dotted) strings.
    """

    app: str = option("litellm.proxy.proxy_server:app", "The FastAPI app (module:name).", metavar="MODULE:NAME")
    dependency: str = option("litellm.proxy.proxy_server:user_api_key_auth",
                             "The auth dependency, exactly as used in Depends (module:name).", metavar="MODULE:NAME")
    dependency_aliases: list[str] = option(
        ["litellm.proxy.auth.user_api_key_auth:user_api_key_auth"],
        "Other import paths of the same dependency object.", metavar="MODULE:NAME")
    identity: str = option("litellm.proxy._types:UserAPIKeyAuth",
                           "Identity factory the override returns (auth-unpatch: for patches without a "
                           "return value).", metavar="MODULE:NAME")
    role_enum: str = option("litellm.proxy._types:LitellmUserRoles", "Enum of roles ('' for none).",
                            metavar="MODULE:NAME")
    role_arg: str = option("user_role", "Keyword of the identity factory for the role ('' to leave out).")
    role: str = option("PROXY_ADMIN", "Member of the role enum the identity gets.")
    user_id_arg: str = option("user_id", "Keyword of the identity factory for the user id ('' to leave out).")
    user_id: str = option("test-user", "user_id the identity gets.")
    module_alias: str = option("ps", "Alias when the app module must be imported (import m as ps).")


@dataclass(eq=False)
class AuthPattern(PatternOptions):
    """The override to write and to recognise: the pattern options of one run, validated.

    Treated as immutable once built; equal and hashable by value (conftest scans are cached by it).
    """

    fixture_name: str = DEFAULT_FIXTURE_NAME
    line_length: int = 88  # the project's black/ruff line-length (:func:`project_line_length`)

    @classmethod
    def from_options(cls, opts: Any) -> AuthPattern:
        """Build from a fixer's Options (a :class:`PatternOptions`, plus ``fixture_name`` for ``auth``);
        a badly formed target raises :class:`~codemods.errors.ConfigError`."""
        from codemods.errors import ConfigError

        values = {f.name: getattr(opts, f.name) for f in dataclasses.fields(PatternOptions)}
        values["dependency_aliases"] = list(values["dependency_aliases"])
        pattern = cls(**values, fixture_name=getattr(opts, "fixture_name", DEFAULT_FIXTURE_NAME))
        for key in ("app", "dependency", "identity", *(("role_enum",) if pattern.role_enum else ())):
            try:
                split_target(getattr(pattern, key))
            except ValueError:
                raise ConfigError(
                    f"[tool.stabfix.auth] `{key.replace('_', '-')}` must look like `package.module:name`, "
                    f"got {getattr(pattern, key)!r}"
                ) from None
        for alias in pattern.dependency_aliases:
            try:
                split_target(alias)
            except ValueError:
                raise ConfigError(
                    f"[tool.stabfix.auth] `dependency-aliases` entries must look like `package.module:name`, "
                    f"got {alias!r}"
                ) from None
        return pattern

    def _key(self) -> tuple[Any, ...]:
        return tuple(
            tuple(v) if isinstance(v, list) else v
            for v in (getattr(self, f.name) for f in dataclasses.fields(self))
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuthPattern) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def app_target(self) -> tuple[str, str]:
        return split_target(self.app)

    @property
    def dep_target(self) -> tuple[str, str]:
        return split_target(self.dependency)

    @functools.cached_property
    def dep_qualnames(self) -> frozenset[str]:
        names = {".".join(split_target(self.dependency))}
        names.update(".".join(split_target(a)) for a in self.dependency_aliases)
        return frozenset(names)

    @property
    def dep_attr(self) -> str:
        return self.dep_target[1]

    def patch_hits_dependency(self, patcher: str, positional: Sequence[str | None], target: str | None) -> bool:
        """Does a call of ``patcher`` (a name of :data:`PATCH_FUNCS`) patch the dependency? Its
        arguments as the string literals they are (None: not a string): ``positional`` in order,
        ``target`` the ``target=`` keyword. ``patch("...user_api_key_auth")``,
        ``patch.object(x, "user_api_key_auth")``. Both syntax trees (ast, libcst) ask here."""
        if patcher.endswith("object"):
            return len(positional) >= 2 and positional[1] == self.dep_attr
        value = positional[0] if positional else target
        return value is not None and (value in self.dep_qualnames or value.rsplit(".", 1)[-1] == self.dep_attr)


class UsesPattern:
    """What both auth fixers share: the pattern, built from their options once; :meth:`load_pattern`
    (from ``prepare``) builds it again with the project's line length."""

    options: Any
    _pattern: AuthPattern | None = None
    import_order: ImportOrder | None = None  # set by :meth:`load_pattern`

    @property
    def pattern(self) -> AuthPattern:
        if self._pattern is None:
            self._pattern = AuthPattern.from_options(self.options)
        return self._pattern

    def load_pattern(self, root: Any) -> None:
        """Build the pattern from the options as they are now, with ``line-length`` from ``root``,
        and the repository's import order (added imports go where isort puts them)."""
        from pathlib import Path

        from codemods.edit.importorder import ImportOrder, first_party_names

        self._pattern = AuthPattern.from_options(self.options)
        self._pattern.line_length = project_line_length(root)  # validates the targets (ConfigError)
        # the app, its dependency and identity are the project's own code (LiteLLM's `litellm/` is
        # at its root): first party, as ruff finds them in the project itself
        own = {split_target(t)[0].split(".", 1)[0] for t in (self._pattern.app, self._pattern.dependency,
                                                             self._pattern.identity)}
        self.import_order = ImportOrder(first_party_names(Path(root)) | own)


def project_line_length(root: Any, default: int = 88) -> int:
    """``line-length`` of ``[tool.black]`` or ``[tool.ruff]`` in ``root/pyproject.toml`` (else ``ruff.toml``)."""
    from pathlib import Path

    from codemods.core import tomlread as tomllib

    for name, keys in (("pyproject.toml", (("tool", "black"), ("tool", "ruff"))),
                       ("ruff.toml", ((),)), (".ruff.toml", ((),))):
        path = Path(root) / name
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key in keys:
            table: Any = data
            for k in key:
                table = table.get(k, {}) if isinstance(table, dict) else {}
            value = table.get("line-length") if isinstance(table, dict) else None
            if isinstance(value, int) and value > 20:
                return value
    return default


def inherit_auth_table(options: PatternOptions, config: dict[str, Any]) -> None:
    """Fill the pattern options left at their defaults from ``[tool.stabfix.auth]`` (in place).

    ``[tool.stabfix.auth]`` describes the project's pattern; ``auth-unpatch`` uses it for the keys its
    own table and flags leave alone. Only the pattern keys are read (and validated) there.
    """
    from codemods.core.options import build

    shared = config.get("auth") if isinstance(config, dict) else None
    if not isinstance(shared, dict):
        return
    fields = dataclasses.fields(PatternOptions)
    keys = {f.name.replace("_", "-") for f in fields}
    from_auth = build(PatternOptions, "auth", {k: v for k, v in shared.items() if k in keys}, {})
    defaults = PatternOptions()
    for f in fields:
        if getattr(options, f.name) == getattr(defaults, f.name):
            setattr(options, f.name, getattr(from_auth, f.name))
