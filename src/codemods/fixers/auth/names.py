"""How one module names the ``auth`` pattern: :class:`ModuleNames` / :func:`module_names` — the app,
the dependency and the identity factory given the module's imports (``app`` vs ``ps.app``, a
directly imported ``user_api_key_auth``), and which imports must be added.

Imports no libcst: the analysis needs the names (a test that binds one of them is left alone) for
modules that get no edit; :mod:`codemods.fixers.auth.codegen` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codemods.fixers.auth.pattern import split_target

if TYPE_CHECKING:
    from codemods.edit.pyimports import Imports
    from codemods.fixers.auth.astnodes import ModuleSource
    from codemods.fixers.auth.pattern import AuthPattern


@dataclass
class ModuleNames:
    """The expressions a module uses for the pattern, and the imports still to add."""

    app: str
    dep: str
    identity: str
    role_enum: str | None
    from_imports: dict[str, list[str]] = field(default_factory=dict)  # module -> names to add
    module_imports: list[tuple[str, str]] = field(default_factory=list)  # (module, alias)

    def override_value(self, pattern: AuthPattern) -> str:
        """``lambda: UserAPIKeyAuth(user_role=..., user_id="...")`` as source text."""
        args = []
        if pattern.role_arg and pattern.role and self.role_enum:
            args.append(f"{pattern.role_arg}={self.role_enum}.{pattern.role}")
        if pattern.user_id_arg:
            args.append(f"{pattern.user_id_arg}={_string_literal(pattern.user_id)}")
        return f"lambda: {self.identity}({', '.join(args)})"


def _string_literal(value: str) -> str:
    """A double-quoted Python string literal (as black/ruff format it)."""
    if '"' in value or "\\" in value or not value.isprintable():
        return repr(value)
    return f'"{value}"'


def module_names(imports: Imports | ModuleSource, pattern: AuthPattern, *, need_identity: bool = True,
                 app_expr: str | None = None) -> ModuleNames:
    """Decide the expressions for this module, adding imports only where none can be reused.

    ``app_expr``: the module's own app (``app = FastAPI()``) the override goes on; the dependency is
    then imported from its own module (the first alias), never from the configured app's module."""
    from_add: dict[str, list[str]] = {}
    mod_add: list[tuple[str, str]] = []
    taken = set(imports.bound)

    def via_from(module: str, attr: str) -> str:
        bound = imports.names.get(attr)
        if bound is not None and bound.rsplit(".", 1)[-1] == attr and \
                bound.split(".", 1)[0] == module.split(".", 1)[0]:
            return attr  # the same name re-exported by another module of the package
        if attr not in taken:
            from_add.setdefault(module, []).append(attr)
            taken.add(attr)
            return attr
        return via_alias(module, attr)

    def via_alias(module: str, attr: str) -> str:
        for local, q in imports.names.items():
            if q == module:
                return f"{local}.{attr}"
        for m, alias in mod_add:
            if m == module:
                return f"{alias}.{attr}"
        # the alias is the app module's; another module gets its own name (`ps` is proxy_server's)
        if module == pattern.app_target[0]:
            base = pattern.module_alias
        else:
            parts = [p.strip("_") for p in module.split(".") if p.strip("_")]
            base = "_".join(parts[-2:]) if len(parts) > 1 else (parts[0] if parts else "mod")
        alias = base
        n = 1
        while alias in taken:
            n += 1
            alias = f"{base}{n}"
        taken.add(alias)
        mod_add.append((module, alias))
        return f"{alias}.{attr}"

    app_mod, app_attr = pattern.app_target
    dep_mod, dep_attr = pattern.dep_target
    if app_expr is not None:
        app = app_expr
        own = [split_target(a) for a in pattern.dependency_aliases if split_target(a)[0] != app_mod]
        if own:
            dep_mod, dep_attr = own[0]
        dep = imports.local_for(dep_mod, dep_attr, pattern.dep_qualnames)
        if dep is not None and dep.split(".", 1)[0] in imports.names and \
                imports.names[dep.split(".", 1)[0]] == app_mod:
            dep = None  # reached through the proxy's module: import it from its own instead
        if dep is None:
            dep = via_from(dep_mod, dep_attr)
    else:
        app = imports.local_for(app_mod, app_attr) or via_from(app_mod, app_attr)
        dep = imports.local_for(dep_mod, dep_attr, pattern.dep_qualnames)
        if dep is None:
            dep = via_from(dep_mod, dep_attr)
    identity = role = ""
    if need_identity:
        id_mod, id_attr = split_target(pattern.identity)
        identity = imports.local_for(id_mod, id_attr) or via_from(id_mod, id_attr)
        if pattern.role_enum and pattern.role_arg and pattern.role:
            r_mod, r_attr = split_target(pattern.role_enum)
            role = imports.local_for(r_mod, r_attr) or via_from(r_mod, r_attr)
    from_sorted = {mod: sorted(attrs) for mod, attrs in from_add.items()}
    return ModuleNames(app, dep, identity, role or None, from_sorted, mod_add)
