"""An import-linter contract the tool lacks: no import cycle among the project's modules.

import-linter's acyclic_siblings finds cycles between siblings inside one package; this one
finds a cycle between any modules of the root packages (including imports inside functions,
which grimp sees too), however many packages it crosses. Used by .importlinter
(docs/adr/0009-layers-and-import-contracts.md)."""

from __future__ import annotations

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def module_cycles(graph, modules: set[str]) -> list[list[str]]:
    """Each set of modules that import each other round in a circle (strongly connected
    components of more than one module), smallest module first, by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        # Iterative depth-first search: (module, its remaining successors).
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    imported = graph.find_modules_directly_imported_by(successor) & modules
                    work.append((successor, iter(sorted(imported))))
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return sorted(cycles)


class AcyclicModulesContract(Contract):
    """No module imports, directly or through others, a module that imports it back.

    Options: ignore_modules, module names (with their descendants) left out, such as
    migrations."""

    type_name = "acyclic_modules"

    ignore_modules = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph, verbose: bool) -> ContractCheck:
        ignored = tuple(self.ignore_modules or ())
        modules = {
            m
            for m in graph.modules
            if not graph.is_module_squashed(m)
            and not any(m == i or m.startswith(f"{i}.") or f".{i}." in f".{m}." for i in ignored)
        }
        cycles = module_cycles(graph, modules)
        return ContractCheck(kept=not cycles, warnings=[], metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("These modules import each other in a circle:")
            for module in cycle:
                output.print_error(f"-   {module}", bold=False)
            output.new_line()
