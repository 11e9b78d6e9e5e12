"""What the names in one module stand for: imports, aliases and the querysets they build."""

from __future__ import annotations

import ast

from .rules import ENTRY_POINTS, GUARDED, GUARDED_BY_LOWER, MANAGERS, MODEL_PACKAGES


def module_name(relative: str) -> str:
    parts = relative.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def constant_strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
    return []


class ModuleNames:
    """One module's syntax tree with its name tables: what each name and chain stands for."""

    def __init__(self, source: str, relative: str, scoped_functions: set[str] | None = None):
        self.source = source
        self.relative = relative
        self.module = module_name(relative)
        self.lines = source.splitlines()
        self.tree = ast.parse(source, filename=relative)
        self.scoped_functions = scoped_functions if scoped_functions is not None else set()
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.imports: dict[str, str] = {}
        self.aliases: dict[str, ast.AST] = {}
        self.local_defs: set[str] = set()
        self._collect_names()

    # --- names -------------------------------------------------------------------------------

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.module.split(".")
        if not self.relative.endswith("__init__.py"):
            package = package[:-1]
        base = package[: len(package) - node.level + 1]
        return ".".join([*base, node.module] if node.module else base)

    def _collect_names(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    if name.asname:
                        self.imports[name.asname] = name.name
                    else:
                        first = name.name.split(".")[0]
                        self.imports[first] = first
            elif isinstance(node, ast.ImportFrom):
                module = self._absolute(node)
                for name in node.names:
                    if name.name != "*":
                        self.imports[name.asname or name.name] = f"{module}.{name.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.local_defs.add(node.name)
        # Names bound to a model: `E = Escalation`, `for model in (Escalation, Event)`,
        # `def f(model=Escalation)`, `E = getattr(models, "Escalation")`. Twice, for chains.
        for _ in range(2):
            for node in ast.walk(self.tree):
                for target, value in self._bindings(node):
                    if isinstance(target, ast.Name) and self.model_of(value):
                        self.aliases[target.id] = value

    @staticmethod
    def _bindings(node: ast.AST):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    yield from zip(target.elts, node.value.elts, strict=False)
                else:
                    yield target, node.value
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            yield node.target, node.value
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple | ast.List | ast.Set):
            for element in node.iter.elts:
                yield node.target, element
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            positional = [*node.args.posonlyargs, *node.args.args]
            for arg, default in zip(
                positional[len(positional) - len(node.args.defaults) :],
                node.args.defaults,
                strict=True,
            ):
                yield ast.Name(id=arg.arg), default
            for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
                if default is not None:
                    yield ast.Name(id=arg.arg), default

    def qualified(self, node: ast.AST, depth: int = 0) -> str | None:
        """'escalations.models.Escalation' for a name, attribute chain or getattr(module, 'X');
        '<local>.X' for a name neither imported nor bound to a model here."""
        if depth > 20:
            return None
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.qualified(self.aliases[node.id], depth + 1)
            if node.id in self.imports:
                return self.imports[node.id]
            return f"<local>.{node.id}"
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value, depth + 1)
            return f"{base}.{node.attr}" if base else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            base = self.qualified(node.args[0], depth + 1)
            return f"{base}.{node.args[1].value}" if base else None
        return None

    def model_of(self, node: ast.AST) -> str | None:
        """The guarded model this expression names, if it names one."""
        if isinstance(node, ast.Call) and self._registry_model(node):
            return self._registry_model(node)
        name = self.qualified(node)
        if not name:
            return None
        parts = name.split(".")
        if parts[-1] not in GUARDED:
            return None
        if parts[0] == "<local>" and len(parts) == 2:
            return parts[-1]
        return parts[-1] if parts[0] in MODEL_PACKAGES else None

    def _registry_model(self, call: ast.Call) -> str | None:
        """apps.get_model("escalations", "Escalation") and its forms, by the model's name."""
        if call_name(call) != "get_model":
            return None
        for arg in call.args:
            for text in constant_strings(arg):
                model = GUARDED_BY_LOWER.get(text.split(".")[-1].lower())
                if model:
                    return model
        return None

    def _is_project_module(self, node: ast.AST) -> bool:
        name = self.qualified(node)
        return bool(name) and name.split(".")[0] in MODEL_PACKAGES and name[0] != "<"

    # --- what a queryset expression is ---------------------------------------------------------

    def manager_model(self, node: ast.AST) -> str | None:
        """The model when node is `Model.objects` (or another manager) of a guarded model."""
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            return self.model_of(node.value)
        return None

    def _enclosing_scope(self, node: ast.AST) -> ast.AST:
        current = self.parents.get(node)
        while current is not None and not isinstance(
            current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            current = self.parents.get(current)
        return current or self.tree

    def _assigned_values(self, name: str, scope: ast.AST) -> list[ast.AST] | None:
        """Every value assigned to name in scope; None when it is a parameter or unbound."""
        values: list[ast.AST] = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    if node.value is None:
                        return None
                    values.append(node.value)
        return values or None

    def is_scoped(self, node: ast.AST, depth: int = 0) -> bool:
        """Whether this queryset visibly comes from a user-scoped entry point."""
        if depth > 10:
            return False
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                model = self.manager_model(func.value)
                if model and func.attr in ENTRY_POINTS.get(model, ()):
                    return True
                if self.is_scoped(func.value, depth + 1):
                    return True
            name = self.qualified(func)
            if name and (
                name in self.scoped_functions
                or (
                    name.startswith("<local>.")
                    and f"{self.module}.{name[8:]}" in self.scoped_functions
                )
            ):
                return True
            # A wrapper given a scoped queryset (with_record(visible)) narrows, never widens:
            # a wrapper that reached past it would be flagged where it reaches.
            return any(self.is_scoped(arg, depth + 1) for arg in node.args)
        if isinstance(node, ast.Attribute | ast.Subscript):
            return self.is_scoped(node.value, depth + 1)
        if isinstance(node, ast.Name):
            values = self._assigned_values(node.id, self._enclosing_scope(node))
            return bool(values) and all(self.is_scoped(v, depth + 1) for v in values)
        return False

    def _root(self, node: ast.AST) -> ast.AST:
        while True:
            if isinstance(node, ast.Call):
                node = node.func
            elif isinstance(node, ast.Subscript) or (
                isinstance(node, ast.Attribute) and not self.model_of(node)
            ):
                node = node.value
            else:
                return node

    def _of_unguarded_model(self, node: ast.AST, depth: int = 0) -> bool:
        """A class or queryset of a model the guard does not cover (Partnership, Agency)."""
        root = self._root(node)
        if self.model_of(root):
            return False
        if isinstance(root, ast.Name) and depth < 5:
            values = self._assigned_values(root.id, self._enclosing_scope(root))
            if values:
                return all(self._of_unguarded_model(v, depth + 1) for v in values)
        name = self.qualified(root)
        if not name:
            return False
        if name.startswith("<local>."):
            return name[8:] in self.local_defs and name[8:] not in GUARDED
        return name.split(".")[-1][:1].isupper()
