"""The bypass forms: every way of reaching a guarded model the guard knows, one method each."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .names import ModuleNames, call_name, constant_strings
from .rules import (
    ENTRY_POINTS,
    ESCALATION_SCOPED,
    GUARDED_APPS,
    GUARDED_TABLE,
    KEYWORD_LOOKUPS,
    MANAGERS,
    META_MANAGERS,
    POSITIONAL_LOOKUPS,
    REVERSE_RELATIONS,
    SHORTCUTS,
    SQL_CALLS,
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str
    source: str = ""

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.what}"
        return f"{text}: {self.source}" if self.source else text


class ModuleCheck(ModuleNames):
    """One module's findings: every node visited once."""

    def __init__(self, source: str, relative: str, scoped_functions: set[str] | None = None):
        super().__init__(source, relative, scoped_functions)
        self.findings: list[Finding] = []
        self._flagged: set[int] = set()

    def flag(self, node: ast.AST, what: str) -> None:
        if id(node) in self._flagged:
            return
        self._flagged.add(id(node))
        line = self.lines[node.lineno - 1].strip() if node.lineno <= len(self.lines) else ""
        self.findings.append(Finding(self.relative, node.lineno, what, line))

    def run(self) -> list[Finding]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute):
                self._check_attribute(node)
            elif isinstance(node, ast.Call):
                self._check_call(node)
            elif isinstance(node, ast.ClassDef):
                self._check_class(node)
        self.findings.sort(key=lambda f: f.line)
        return self.findings

    def _chain_top(self, node: ast.AST) -> ast.AST:
        """The whole method chain a manager starts: Model.objects.filter(...).first()."""
        while True:
            parent = self.parents.get(node)
            if (
                (isinstance(parent, ast.Attribute) and parent.value is node)
                or (isinstance(parent, ast.Call) and parent.func is node)
                or (isinstance(parent, ast.Subscript) and parent.value is node)
            ):
                node = parent
            else:
                return node

    def _chain_calls(self, top: ast.AST):
        node = top
        while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
            if isinstance(node, ast.Call):
                yield node
                node = node.func
            else:
                node = node.value

    def _is_prefetch_queryset(self, top: ast.AST) -> bool:
        """Prefetch("actions", queryset=Action.objects...): Django restricts it to the related
        rows of the parent queryset, which the guard checks on its own."""
        parent = self.parents.get(top)
        if isinstance(parent, ast.keyword) and parent.arg == "queryset":
            parent = self.parents.get(parent)
            return isinstance(parent, ast.Call) and call_name(parent) == "Prefetch"
        return (
            isinstance(parent, ast.Call)
            and call_name(parent) == "Prefetch"
            and len(parent.args) > 1
            and parent.args[1] is top
        )

    def _is_correlated_within_scoped(self, top: ast.AST) -> bool:
        """Participant.objects.filter(escalation=OuterRef("pk")) inside the annotate() of a
        visible_to() queryset: a subquery about the outer rows only."""
        correlated = any(
            isinstance(sub, ast.Call) and call_name(sub) == "OuterRef"
            for call in self._chain_calls(top)
            for arg in [*call.args, *(k.value for k in call.keywords)]
            for sub in ast.walk(arg)
        )
        if not correlated:
            return False
        node = top
        while (parent := self.parents.get(node)) is not None and not isinstance(parent, ast.stmt):
            if (
                isinstance(parent, ast.Call)
                and node is not parent.func
                and isinstance(parent.func, ast.Attribute)
                and self.is_scoped(parent.func.value)
            ):
                return True
            node = parent
        return False

    def _check_attribute(self, node: ast.Attribute) -> None:
        if node.attr in MANAGERS:
            model = self.model_of(node.value)
            if model:
                self._check_manager(node, model)
            elif self._dynamic_class(node.value):
                self.flag(
                    node, f"{node.attr} reached through an instance's class or a queryset's model"
                )
        elif node.attr in META_MANAGERS and isinstance(node.value, ast.Attribute):
            if node.value.attr == "_meta":
                self.flag(node, f"_meta.{node.attr}: a model's manager taken from its options")
        elif node.attr == "all_models" and not self._is_project_module(node.value):
            self.flag(node, "apps.all_models: every model, guarded ones included")
        elif (
            node.attr in REVERSE_RELATIONS
            and not self._is_project_module(node.value)
            # A view's or form's own attribute (self.children), not a model's relation.
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        ):
            self.flag(
                node,
                f".{node.attr}: guarded rows reached through a relation of an unscoped partnership, "
                "agency, person or child",
            )

    def _dynamic_class(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return node.func.id == "type"
        return isinstance(node, ast.Attribute) and node.attr in ("__class__", "model")

    def _check_manager(self, node: ast.Attribute, model: str) -> None:
        parent = self.parents.get(node)
        allowed = ENTRY_POINTS.get(model, frozenset()) | {"none"}
        if isinstance(parent, ast.Attribute) and parent.attr in allowed:
            return
        top = self._chain_top(node)
        if model in ESCALATION_SCOPED and self._is_prefetch_queryset(top):
            return
        if self._is_correlated_within_scoped(top):
            return
        method = f".{parent.attr}" if isinstance(parent, ast.Attribute) else ""
        entry = " or ".join(sorted(ENTRY_POINTS.get(model, ()))) or (
            "the relation of an escalation from visible_to"
        )
        self.flag(node, f"{model}.{node.attr}{method} outside the trusted layers (use {entry})")

    def _check_call(self, node: ast.Call) -> None:
        name = call_name(node)
        if name in SHORTCUTS:
            self._check_shortcut(node, name)
        elif name and name.endswith("QuerySet"):
            # EscalationQuerySet(Escalation) or QuerySet(model=Event): a manager's queryset
            # made by hand.
            given = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "model")]
            if any(self.model_of(arg) for arg in given):
                self.flag(node, f"{name}(...) on a guarded model: a queryset made by hand")
        elif name == "getattr" and isinstance(node.func, ast.Name) and node.args:
            self._check_getattr(node)
        elif name == "get_model":
            dynamic = any(not constant_strings(a) for a in node.args)
            if self._registry_model(node) or dynamic:
                self.flag(node, "get_model(): a guarded model taken from the app registry")
        elif name == "get_models":
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            labels = (
                [s for a in receiver.args for s in constant_strings(a)]
                if isinstance(receiver, ast.Call) and call_name(receiver) == "get_app_config"
                else None
            )
            if labels is None or not labels or set(labels) & GUARDED_APPS:
                self.flag(node, "get_models(): guarded models taken from the app registry")
        if name in SQL_CALLS:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if any(GUARDED_TABLE.search(text) for text in constant_strings(arg)):
                    self.flag(node, f"{name}(): raw SQL on a guarded table")
                    break
        lookups = []
        if name in POSITIONAL_LOOKUPS:
            lookups += [s for a in node.args for s in constant_strings(a)]
        if name in KEYWORD_LOOKUPS:
            lookups += [k.arg for k in node.keywords if k.arg]
        if lookups:
            for lookup in lookups:
                if lookup.split("__")[0] in REVERSE_RELATIONS:
                    self.flag(
                        node,
                        f'"{lookup}": guarded rows reached through a relation of an unscoped '
                        "partnership, agency, person or child",
                    )
                    break

    def _check_shortcut(self, node: ast.Call, name: str) -> None:
        target = node.args[0] if node.args else None
        for keyword in node.keywords:
            if keyword.arg in ("klass", "queryset"):
                target = keyword.value
        if target is None:
            return
        model = self.model_of(target)
        if model:
            self.flag(node, f"{name}({model}, ...): an unscoped lookup")
            return
        if any(self.manager_model(sub) for sub in ast.walk(target)):
            return  # flagged where the manager is reached
        if self.is_scoped(target) or self._of_unguarded_model(target):
            return
        self.flag(node, f"{name}() with a queryset that does not come from a scoped entry point")

    def _check_getattr(self, node: ast.Call) -> None:
        receiver, rest = node.args[0], node.args[1:]
        attribute = constant_strings(rest[0]) if rest else []
        if self.model_of(receiver):
            if not attribute or attribute[0] in MANAGERS:
                self.flag(node, "getattr() on a guarded model: its manager, unscoped")
        elif self._is_project_module(receiver) and rest and not attribute:
            self.flag(node, "getattr() on a models module with a name chosen at run time")

    def _check_class(self, node: ast.ClassDef) -> None:
        if node.name == "Meta":
            return  # a ModelForm's Meta.model reads nothing
        for statement in node.body:
            for target, value in self._bindings(statement):
                if (
                    isinstance(target, ast.Name)
                    and target.id == "model"
                    and (model := self.model_of(value))
                ):
                    self.flag(
                        statement,
                        f"model = {model}: a generic view's default queryset is unscoped",
                    )
