"""The whole project: escapes read from comments, scoped helpers followed across modules."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

from .checks import Finding, ModuleCheck
from .rules import ESCAPE, ESCAPE_ATTEMPT, PACKAGES, ROOT, trusted_layer


def _comments(source: str) -> dict[int, str]:
    """The comments that are escapes, or try to be: those that start with scoped-lookup."""
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and ESCAPE_ATTEMPT.match(token.string):
            comments[token.start[0]] = token.string
    return comments


def _escape_lines(check: ModuleCheck, line: int) -> list[int]:
    """Where an escape for a finding may sit: on a comment line right above the statement that
    holds it, or on any line from the statement's start to the finding."""
    holding = [
        node
        for node in ast.walk(check.tree)
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    best = max(holding, key=lambda node: node.lineno, default=None)
    start = best.lineno if best else line
    above = [start - 1] if start > 1 and check.lines[start - 2].lstrip().startswith("#") else []
    return [*above, *range(start, line + 1)]


def check_source(
    source: str, relative: str, scoped_functions: set[str] | None = None
) -> list[Finding]:
    """Every finding in one module (relative: its path from the repository root)."""
    try:
        comments = _comments(source)
        check = ModuleCheck(source, relative, scoped_functions)
    except (SyntaxError, tokenize.TokenError) as error:
        return [Finding(relative, getattr(error, "lineno", 0) or 0, f"cannot be parsed: {error}")]
    problems = []
    escapes = {}
    for line, text in comments.items():
        if ESCAPE.search(text):
            escapes[line] = False
        else:
            problems.append(
                Finding(
                    relative,
                    line,
                    "an escape must say why, in brackets: # scoped-lookup: allowed (reason)",
                    text,
                )
            )
    trusted = trusted_layer(relative)
    findings = [] if trusted else check.run()
    for finding in findings:
        excused = [n for n in _escape_lines(check, finding.line) if n in escapes]
        for n in excused:
            escapes[n] = True
        if not excused:
            problems.append(finding)
    for line, used in escapes.items():
        if not used:
            why = f"a trusted layer ({trusted})" if trusted else "no finding on its statement"
            problems.append(Finding(relative, line, f"an escape that excuses nothing: {why}"))
    return sorted(problems, key=lambda f: f.line)


def project_modules(root: Path = ROOT) -> list[tuple[str, str]]:
    modules = []
    for package in PACKAGES:
        # A guard that finds nothing to check must not pass.
        if not (root / package).is_dir():
            raise FileNotFoundError(f"The scoped-lookup guard has no {root / package} to check.")
        for path in sorted((root / package).rglob("*.py")):
            modules.append((path.relative_to(root).as_posix(), path.read_text(encoding="utf-8")))
    return modules


def scoped_functions(modules: list[tuple[str, str]]) -> set[str]:
    """Module-level functions whose every return is a scoped queryset (views.common's
    visible_escalations), found across the project until nothing new is found."""
    trees = []
    for relative, source in modules:
        try:
            trees.append(ModuleCheck(source, relative))
        except SyntaxError:
            continue
    found: set[str] = set()
    while True:
        before = len(found)
        for check in trees:
            check.scoped_functions = found
            for node in check.tree.body:
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                returns = [
                    r.value
                    for r in ast.walk(node)
                    if isinstance(r, ast.Return) and r.value is not None
                ]
                if returns and all(check.is_scoped(value) for value in returns):
                    found.add(f"{check.module}.{node.name}")
        if len(found) == before:
            return found


def check_project(root: Path = ROOT) -> list[Finding]:
    modules = project_modules(root)
    scoped = scoped_functions(modules)
    problems = []
    for relative, source in modules:
        problems.extend(check_source(source, relative, scoped))
    return problems
