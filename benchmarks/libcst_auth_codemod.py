"""The comparison codemod for ``bench_auth.py``: stabfix ``auth``'s minimal transform, written the way
``python -m libcst.tool codemod`` runs codemods.

For each module that names the app's module (``proxy_server``), every ``test*`` function or method
whose body uses a client (``TestClient(...)``, ``x.get/post/...`` on a name containing "client")
and does not already touch ``dependency_overrides`` gets LiteLLM's pattern: override, ``try:`` the
body, ``finally:`` pop, with the imports added by libcst's AddImportsVisitor. It does less than
stabfix (no fixture/conftest coverage, no import-spelling resolution) and walks only module and class
level statements, so the comparison favours it.

    python -m libcst.tool codemod -x benchmarks.libcst_auth_codemod.AuthWrapCommand --no-format PATH
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor

VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
OVERRIDE = (
    "app.dependency_overrides[ps.user_api_key_auth] = lambda: UserAPIKeyAuth(\n"
    "    user_role=LitellmUserRoles.PROXY_ADMIN, user_id=\"test-user\"\n"
    ")\n"
)
POP = "app.dependency_overrides.pop(ps.user_api_key_auth, None)\n"


class _Uses(cst.CSTVisitor):
    def __init__(self) -> None:
        self.client = False
        self.overrides = False

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if isinstance(f, cst.Name) and f.value == "TestClient":
            self.client = True
        if isinstance(f, cst.Attribute) and f.attr.value in VERBS:
            recv = f.value
            name = recv.value if isinstance(recv, cst.Name) else recv.attr.value if isinstance(recv, cst.Attribute) else ""
            if "client" in name.lower():
                self.client = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "dependency_overrides":
            self.overrides = True


class AuthWrapCommand(VisitorBasedCodemodCommand):
    DESCRIPTION = "Wrap proxy tests in LiteLLM's auth dependency override (benchmark twin of stabfix auth)."

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self.active = False
        self.changed = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        # only module/class level statements and imports matter: do not walk every expression
        super().on_visit(node)
        return isinstance(node, (cst.Module, cst.ClassDef, cst.IndentedBlock, cst.SimpleStatementLine))

    def visit_Module(self, node: cst.Module) -> None:
        self.source_module = node
        self.active = False

    def visit_Import(self, node: cst.Import) -> None:
        self.active = self.active or any("proxy_server" in self.source_module.code_for_node(a.name) for a in node.names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        names = [] if isinstance(node.names, cst.ImportStar) else [a.name for a in node.names]
        parts = [node.module, *names] if node.module is not None else names
        self.active = self.active or any("proxy_server" in self.source_module.code_for_node(p) for p in parts)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if not self.active or not original.name.value.startswith("test"):
            return updated
        uses = _Uses()
        original.body.visit(uses)
        if not uses.client or uses.overrides or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        body = list(updated.body.body)
        head = []
        if body and isinstance(body[0], cst.SimpleStatementLine) and isinstance(body[0].body[0], cst.Expr) \
                and isinstance(body[0].body[0].value, cst.SimpleString):
            head = [body.pop(0)]
        if not body:
            return updated
        config = self.source_module.config_for_parsing
        override = cst.parse_module(OVERRIDE, config=config).body
        pop = cst.parse_module(POP, config=config).body
        wrapped = cst.Try(body=cst.IndentedBlock(body=body), finalbody=cst.Finally(body=cst.IndentedBlock(body=pop)))
        self.changed = True
        return updated.with_changes(body=updated.body.with_changes(body=[*head, *override, wrapped]))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.changed:
            AddImportsVisitor.add_needed_import(self.context, "litellm.proxy.proxy_server", "app")
            AddImportsVisitor.add_needed_import(self.context, "litellm.proxy.proxy_server", asname="ps")
            AddImportsVisitor.add_needed_import(self.context, "litellm.proxy._types", "UserAPIKeyAuth")
            AddImportsVisitor.add_needed_import(self.context, "litellm.proxy._types", "LitellmUserRoles")
        return updated
