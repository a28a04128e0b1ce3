"""Deciding, from a notebook's source, what a question's answer is and whether it uses what the question forbids.

A question whose tests call the student's code inside `no_library()` is judged by its answer's *closure*: the
top-level statements whose effect the tests' names can see (the last definition of each name and what changed it
after that, in notebook order), the statements those read, and so on. Everything in the closure must be on the
question's allow-list (`grading.policy`); a reference outside it fails the question, code whose target cannot be
read from the source goes to a person (`review`), and the rest of the notebook never counts.

The closure is also what runs: the sandbox executes a clean closure alone, in a fresh interpreter, with the
operation trace armed before any of it runs (`Notebook.program`), so no other cell can rebind, patch or hide
anything, and the trace's evidence is the closure's own.
"""
from __future__ import annotations

import ast
import bisect
import re
import threading
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

# IPython's input transformer is imported here, once, when the grader starts: imported lazily by two threads at
# once, importlib's deadlock avoidance can hand one of them a partly initialised module.
from IPython.core.inputtransformer2 import TransformerManager

from grading.policy import HOOKS, Policy, is_builtin

__all__ = ["Finding", "Notebook", "scan_cell", "is_scaffold", "SCAFFOLD", "as_scanned", "without_code_magics"]

# otter's set-up and check cells: the runner skips them (it gets this pattern in its job), so the scan does too.
SCAFFOLD = re.compile(r"^(import otter|grader\s*=\s*otter\.Notebook\(.*\)|grader\.\w+\(.*\)|"
                      r"from grading\.checks import \w+|grader\s*=\s*\w+\(.*\))$")


def is_scaffold(source: str) -> bool:
    """otter's init and check cells, which the runner does not execute."""
    lines = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(SCAFFOLD.match(line) for line in lines)


@dataclass(frozen=True)
class Finding:
    kind: str      # "forbidden", "autograd" or "review"
    what: str      # what the source uses, e.g. "torch.nn.functional.conv2d" or "eval()"
    cell: int      # 1-based index among the notebook's code cells
    line: int

    def describe(self, cell_label: str = "code cell") -> str:   # cell 0: evidence from the run, not the source
        return f"{self.what} ({cell_label} {self.cell}, line {self.line})" if self.cell else self.what


def verdict(findings: Sequence[Finding], cell_label: str = "code cell") -> Optional[Tuple[str, str]]:
    """What findings against an answer make of its question, as (status, message): forbidden use costs the whole
    question (the answer is not the student's own); code the source cannot show goes to a person. None: clean.
    The grader's row and a student's own check say the same."""
    used = [f for f in findings if f.kind in ("forbidden", "autograd")]
    if used:
        what = "autograd" if used[0].kind == "autograd" else "what this question does not allow"
        listed = "; ".join(dict.fromkeys(f.describe(cell_label) for f in used[:4]))
        return "failed", (f"forbidden: the answer uses {what} ({listed}); this question asks you to write it "
                          "yourself with tensors, indexing, arithmetic and reductions")
    review = [f for f in findings if f.kind == "review"]
    if review:
        listed = "; ".join(f.describe(cell_label) for f in review[:3]) + ("; ..." if len(review) > 3 else "")
        return "review", (f"needs a person: the answer uses code whose target cannot be read from its source "
                          f"({listed}), so a person checks that it does not call what the question forbids")
    return None


def _dotted(node: ast.AST) -> str:
    """`a.b.c` for a chain of attributes on a name (the outermost first), '' when the chain is not that simple."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


# ---------------------------------------------------------------------------------------------------------------
# Reading a cell as IPython will run it
# ---------------------------------------------------------------------------------------------------------------

# `%timeit EXPR` and a `%%time`, `%%timeit` or `%%capture` cell run their code in the notebook's namespace.
_MAGIC_CODE = re.compile(r"^(\s*)%{1,2}(time|timeit|prun|capture)\b(\s+-\S+)*\s*")
_LINE_ENDS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"   # where str.splitlines breaks
# IPython rewrites a cell's escapes (`!cmd`, `%magic`, `x = !cmd`, `obj?`) one at a time and tokenizes the whole
# cell again after each, so its cost is escapes x length. The grader reads every submission before it runs, outside
# any time limit: a notebook may spend this many (escape line, character) pairs, about two seconds of tokenizing,
# over all its cells; a cell past what is left is read as defining nothing (it is in no answer's closure).
_MAYBE_ESCAPE = re.compile(r"^\s*[!%?,;/]|=\s*[!%]|\?\s*$")
_TRANSFORM_BUDGET = 300_000


# CPython 3.11 keeps the AST converter's recursion depth in interpreter-wide state, so two grading threads parsing at
# once can fail with "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905): the grader's
# threads parse one at a time.
_PARSING = threading.Lock()


def parse(source: str) -> ast.Module:
    """`ast.parse`, safe to call from the grader's threads."""
    with _PARSING:
        return ast.parse(source)


def without_code_magics(source: str) -> List[str]:
    """The cell's lines with the magics that run their own code (`%timeit EXPR`, `%%time`) reduced to that code,
    each line with its ending: what IPython's transforms then read."""
    cell = []
    for line in source.splitlines(keepends=True):
        # Each line keeps its own ending: str.splitlines also breaks at a form feed or U+2028, which Python reads
        # inside a string or a comment.
        content = line.rstrip(_LINE_ENDS)
        cell.append(_MAGIC_CODE.sub(r"\1", content) + line[len(content):])
    return ("".join(cell) + "\n").splitlines(keepends=True)


def as_scanned(source: str) -> Optional[str]:
    """The cell's text as the scan parses it (its findings' line numbers count these lines), or None if IPython
    cannot rewrite it."""
    shell, lines = TransformerManager(), without_code_magics(source)
    try:
        for transform in shell.cleanup_transforms + shell.line_transforms:
            lines = transform(lines)
        return "".join(shell.do_token_transforms(lines))
    except Exception:   # whatever IPython makes of a hostile cell, a reader still gets the raw source
        return None


def _python(source: str, budget: int) -> Tuple[Optional[ast.Module], int]:
    """The cell as IPython will run it, parsed (None if it cannot be read: a syntax error, which IPython cannot run
    either, or past the escape budget), and what is left of the notebook's `budget`.

    `%time`/`%timeit` keep their code, so it is read like any other; other magics and shell escapes become
    IPython's `get_ipython()...` calls, which bind nothing an answer reads.
    """
    shell, lines = TransformerManager(), without_code_magics(source)
    for transform in shell.cleanup_transforms + shell.line_transforms:   # prompts stripped, cell magics: one pass
        lines = transform(lines)
    budget -= sum(bool(_MAYBE_ESCAPE.search(line)) for line in lines) * len(source)
    if budget < 0:
        return None, 0
    try:
        return parse("".join(shell.do_token_transforms(lines))), budget
    except (SyntaxError, ValueError, RecursionError, MemoryError):   # Python's compiler refuses it in the run too
        return None, budget


# ---------------------------------------------------------------------------------------------------------------
# What each top-level statement binds, changes and reads
# ---------------------------------------------------------------------------------------------------------------

def _captured(node: ast.AST) -> Set[str]:
    """Names a match pattern or an except clause binds (held as text, not as ast.Name)."""
    if isinstance(node, (ast.MatchAs, ast.MatchStar, ast.ExceptHandler)) and node.name:
        return {node.name}
    if isinstance(node, ast.MatchMapping) and node.rest:
        return {node.rest}
    return set()


def _bound_anywhere(node: ast.AST) -> Set[str]:
    """Every name bound inside `node`: assignments, loop variables, parameters, functions and classes."""
    names: Set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            names.add(child.id)
        elif isinstance(child, ast.arg):
            names.add(child.arg)
        elif isinstance(child, ast.alias):
            names.add((child.asname or child.name).split(".")[0])
        names |= _captured(child)
    return names


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp)


def _bound_here(nodes: Iterable[ast.AST]) -> Set[str]:
    """The names `nodes` bind in their own scope: not a nested function's, class's or comprehension's locals (only
    the name a def or class binds), so that a parameter named `eval` somewhere never hides the builtin elsewhere."""
    names: Set[str] = set()
    pending = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            pending += node.decorator_list + (node.bases + [k.value for k in node.keywords]
                                              if isinstance(node, ast.ClassDef) else [])
            continue
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        names |= _captured(node)
        pending.extend(ast.iter_child_nodes(node))
    return names


def _definite(statement: ast.stmt) -> Set[str]:
    """Names the statement always rebinds when it runs (so that earlier definitions no longer count)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names if a.name != "*"}
    targets: List[ast.AST] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    names: Set[str] = set()
    for target in targets:
        pending = [target]
        while pending:   # a, (b, *c) = ...
            node = pending.pop()
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, (ast.Tuple, ast.List)):
                pending += node.elts
            elif isinstance(node, ast.Starred):
                pending.append(node.value)
    return names


def _touched(statement: ast.stmt, modules: Set[str]) -> Set[str]:
    """Every name the statement may bind or change: what it assigns anywhere (in a branch, a loop, a `global` of a
    function it defines), the objects it stores into (`x[k] = ...`, `x.a = ...`) or calls a method of
    (`box.update(...)`), and a function it calls as a statement (`setup()` may assign globals). Calling a module's
    function (`torch.manual_seed(0)`) does not change what the module's name means."""
    names = _bound_anywhere(statement) if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                     ast.ClassDef)) else {statement.name}
    for node in ast.walk(statement):
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(_dotted(node.value).split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = _dotted(node.func.value).split(".")[0]
            if receiver not in modules:
                names.add(receiver)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        called = _dotted(statement.value.func).split(".")[0]
        if called not in modules:
            names.add(called)
    names.discard("")
    return names


def _function_free(function: ast.AST) -> Set[str]:
    """The names a function or lambda reads from outside itself (its parameters and locals excluded)."""
    loaded = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    local = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    for node in (function.body if isinstance(function.body, list) else [function.body]):
        local |= _bound_anywhere(node)
    declared_global = {name for n in ast.walk(function) if isinstance(n, ast.Global) for name in n.names}
    return loaded - (local - declared_global)


def _reads(statement: ast.stmt) -> Tuple[Set[str], Set[str]]:
    """(now, later): the names a statement reads when it runs, and those its functions read when called."""
    now: Set[str] = set()
    later: Set[str] = set()
    pending: List[ast.AST] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            later |= _function_free(node)
            arguments = node.args
            pending += arguments.defaults + [d for d in arguments.kw_defaults if d is not None]
            pending += getattr(node, "decorator_list", [])
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            now.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            now.add(node.target.id)   # x += 1 reads the x it replaces
        pending.extend(ast.iter_child_nodes(node))
    return now, later


@dataclass
class _Statement:
    cell: int            # 0-based code cell index
    node: ast.stmt
    definite: Set[str]
    touched: Set[str]
    now: Set[str]
    later: Set[str]


@dataclass
class Answer:
    """A question's answer as the source shows it: what it uses against the policy, and the closure that runs."""
    findings: List[Finding]
    positions: Tuple[int, ...]                                  # statements of the closure, in notebook order
    names: Dict[int, FrozenSet[str]] = field(default_factory=dict)   # an import statement's aliases the answer uses
    unbound: FrozenSet[str] = frozenset()                             # names it reads that nothing readable binds

    @property
    def clean(self) -> bool:
        return not self.findings


# ---------------------------------------------------------------------------------------------------------------
# Checking a closure against the policy
# ---------------------------------------------------------------------------------------------------------------

_UNBOUND = object()


class _Checker(ast.NodeVisitor):
    """The policy's verdict on every reference in a closure's statements."""

    def __init__(self, policy: Policy, top: Set[str], own: FrozenSet[str]) -> None:
        self.policy, self.own = policy, own
        # Innermost last: (is a class body, name -> the library path an import bound it to, or None: a value).
        self.scopes: List[Tuple[bool, Dict[str, Optional[str]]]] = [(False, {name: None for name in top})]
        self.cell = 0
        self.findings: List[Finding] = []

    def add(self, verdict: Optional[Tuple[str, str]], node: ast.AST) -> None:
        if verdict is not None:
            self.findings.append(Finding(verdict[0], verdict[1], self.cell, getattr(node, "lineno", 0)))

    def resolve(self, name: str):
        for depth, (is_class, scope) in enumerate(reversed(self.scopes)):
            if name in scope and (not is_class or depth == 0):   # a method does not see its class's names
                return scope[name]
        return _UNBOUND

    def bind(self, name: str, path: Optional[str]) -> None:
        self.scopes[-1][1][name] = path

    # Imports: the path each alias stands for, checked when it is bound.
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.add(self.policy.path(alias.name), node)
            self.bind(alias.asname or alias.name.split(".")[0], alias.name if alias.asname else
                      alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.add(("review", f"a relative import (from {'.' * node.level}{node.module or ''})"), node)
            return
        for alias in node.names:
            if alias.name == "*":
                self.add(("review", f"from {node.module} import *"), node)
                continue
            path = f"{node.module}.{alias.name}"
            self.add(self.policy.path(path), node)
            self.bind(alias.asname or alias.name, path)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in HOOKS:   # `__torch_dispatch__ = handler` in a class body
            self.add(("review", f"a class's own {node.id}"), node)
        elif isinstance(node.ctx, ast.Load):
            target = self.resolve(node.id)
            if target is _UNBOUND:
                if is_builtin(node.id):
                    self.add(self.policy.builtin(node.id), node)
            elif target is not None:
                self.add(self.policy.path(target), node)

    def _attribute(self, node: ast.AST, value: ast.AST, name: str, store: bool) -> None:
        chain = _dotted(value)
        root = chain.split(".")[0] if chain else ""
        target = self.resolve(root) if root else _UNBOUND
        if isinstance(target, str):   # on a library path: torch.nn.functional.pad
            path = target + chain[len(root):] + "." + name
            if store:
                self.add(("forbidden", f"an assignment to {path}, which changes the library"), node)
            else:
                self.add(self.policy.path(path), node)
            return
        if not store:
            self.add(self.policy.method(name, self.own), node)
        self.visit(value)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._attribute(node, node.value, node.attr, isinstance(node.ctx, (ast.Store, ast.Del)))

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if isinstance(function, ast.Name) and function.id in ("getattr", "setattr", "delattr", "hasattr") and \
                self.resolve(function.id) is _UNBOUND and len(node.args) >= 2 and \
                isinstance(node.args[1], ast.Constant) and type(node.args[1].value) is str:
            # getattr(obj, "literal") reads like obj.literal
            self._attribute(node, node.args[0], node.args[1].value, function.id in ("setattr", "delattr"))
            for argument in node.args[2:] + [k.value for k in node.keywords]:
                self.visit(argument)
            return
        if isinstance(function, ast.Name) and function.id == "type" and len(node.args) == 3:
            self.add(("review", "type() building a class from a dict (its method names are text)"), node)
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        for name in node.kwd_attrs:   # `case object(conv2d=c)` reads the subject's attribute conv2d
            self.add(self.policy.method(name, self.own), node)
        self.generic_visit(node)

    def _scope(self, body: List[ast.AST], local: Set[str], is_class: bool = False) -> None:
        self.scopes.append((is_class, {name: None for name in local}))
        for statement in body:
            self.visit(statement)
        self.scopes.pop()

    def _function(self, node: ast.AST, name: Optional[str]) -> None:
        if name in HOOKS:
            self.add(("review", f"a class's own {name}"), node)
        arguments = node.args
        for default in arguments.defaults + [d for d in arguments.kw_defaults if d is not None]:
            self.visit(default)
        for decorator in getattr(node, "decorator_list", []):
            self.visit(decorator)
        if name is not None:
            self.bind(name, None)
        body = node.body if isinstance(node.body, list) else [node.body]
        declared = {n for s in ast.walk(node) if isinstance(s, (ast.Global, ast.Nonlocal)) for n in s.names}
        local = {a.arg for a in ast.walk(arguments) if isinstance(a, ast.arg)} | _bound_here(body)
        self._scope(body, local - declared)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, None)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in node.bases + [k.value for k in node.keywords] + node.decorator_list:
            self.visit(child)
        self.bind(node.name, None)
        self._scope(node.body, _bound_here(node.body), is_class=True)

    def _comprehension(self, node: ast.AST, results: List[ast.AST]) -> None:
        first, *rest = node.generators
        self.visit(first.iter)   # evaluated in the enclosing scope
        local = set().union(*(_bound_here([g.target]) for g in node.generators))
        self.scopes.append((False, {name: None for name in local}))
        for generator in node.generators:
            self.visit(generator.target)
            if generator is not first:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for result in results:
            self.visit(result)
        self.scopes.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])


def _own_names(statements: Iterable[ast.stmt]) -> FrozenSet[str]:
    """The attribute and method names the student's own code defines: a method named `backward` on their class is
    theirs, whatever torch calls its own."""
    names: Set[str] = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        names.add(item.name)
                    names |= {t.id for t in ast.walk(item) if isinstance(t, ast.Name) and
                              isinstance(t.ctx, ast.Store) and item in node.body and
                              isinstance(item, (ast.Assign, ast.AnnAssign))}
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return frozenset(n for n in names if n not in HOOKS)


# ---------------------------------------------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------------------------------------------

_TEXT_AS_CODE = {"exec", "eval", "compile", "globals", "locals", "vars", "setattr", "__import__"}
_CODE_MAGICS = {"run", "config", "load", "store", "macro", "rerun", "recall", "paste", "cpaste", "autocall"}


class Notebook:
    """A submission's code cells, parsed once; answers `answer(...)` for each question that forbids."""

    def __init__(self, cells: Sequence[dict]) -> None:
        self.cells = list(cells)
        self.trees: List[Optional[ast.Module]] = []
        budget = _TRANSFORM_BUDGET
        for cell in self.cells:
            tree, budget = (None, budget) if is_scaffold(cell["source"]) else _python(cell["source"], budget)
            self.trees.append(tree)
        nodes = [(index, s) for index, tree in enumerate(self.trees) if tree is not None for s in tree.body]
        modules = {(a.asname or a.name).split(".")[0] for _, s in nodes if isinstance(s, (ast.Import, ast.ImportFrom))
                   for a in s.names}
        self.statements: List[_Statement] = []
        self.touching: Dict[str, List[int]] = {}   # name -> positions of the statements that may change it
        for position, (index, node) in enumerate(nodes):
            now, later = _reads(node)
            statement = _Statement(index, node, _definite(node), _touched(node, modules), now, later)
            self.statements.append(statement)
            for name in statement.touched | statement.definite:
                self.touching.setdefault(name, []).append(position)
        self._share_aliases()
        self.opaque = self._opaque(nodes)

    def _opaque(self, nodes: Sequence[Tuple[int, ast.stmt]]) -> List[Finding]:
        """Code that may bind names the scan cannot see: text run as code, a magic that runs or configures code
        (`%config` can turn on autocall, whose cells no parser reads). A cell with a syntax error is not: it runs
        no more in the notebook than in the scan, and its author deserves the SyntaxError, not a person's review."""
        found = []
        for index, statement in nodes:
            for node in ast.walk(statement):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else \
                    node.func.attr if isinstance(node.func, ast.Attribute) else ""
                magic = node.args[0].value if name == "run_line_magic" and node.args and \
                    isinstance(node.args[0], ast.Constant) else None
                if name in _TEXT_AS_CODE or magic in _CODE_MAGICS:
                    found.append(Finding("review", f"%{magic}" if magic else f"{name}()", index + 1, node.lineno))
        return found

    def _share_aliases(self) -> None:
        """`alias = box` makes two names of one object: a statement that changes either may change what the other
        holds, so each name's list of statements that may change it is its whole group's."""
        parent: Dict[str, str] = {}

        def root(name: str) -> str:
            while parent.get(name, name) != name:
                name = parent[name]
            return name
        for statement in self.statements:
            node = statement.node
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
                for target in node.targets:
                    if isinstance(target, ast.Name) and root(target.id) != root(node.value.id):
                        parent[root(target.id)] = root(node.value.id)
        groups: Dict[str, Set[str]] = {}
        for name in list(parent):
            groups.setdefault(root(name), set()).update({name, root(name)})
        for members in groups.values():
            merged = sorted({p for member in members for p in self.touching.get(member, [])})
            for member in members:
                self.touching[member] = merged

    def _reaching(self, name: str, before: int) -> List[int]:
        """The statements before position `before` whose effect on `name` may be visible there: back to the last
        one that surely rebinds it."""
        positions = self.touching.get(name, [])
        found = []
        for position in reversed(positions[:bisect.bisect_left(positions, before)]):
            found.append(position)
            if name in self.statements[position].definite:
                break
        return found

    def closure(self, names: Iterable[str], cell_ids: Sequence[str] = ()) -> Answer:
        """The statements the names' final values depend on (without names: the statements of the cells
        `cell_ids`, the question's own), and for each import among them the aliases that are read."""
        end = len(self.statements)
        todo: List[Tuple[str, int]] = [(name, end) for name in names]
        seen_names: Set[Tuple[str, int]] = set()
        positions: Set[int] = set()
        used: Dict[int, Set[str]] = {}
        unbound: Set[str] = set()   # read, and bound by no statement the scan can read
        if not todo:
            own = set(cell_ids)
            for position, statement in enumerate(self.statements):
                if self.cells[statement.cell].get("id") in own:
                    positions.add(position)
                    todo += [(n, position) for n in statement.now] + [(n, end) for n in statement.later]
        while todo:
            key = todo.pop()
            if key in seen_names:
                continue
            seen_names.add(key)
            name, before = key
            reaching = self._reaching(name, before)
            if not reaching and not is_builtin(name):
                unbound.add(name)
            for position in reaching:
                used.setdefault(position, set()).add(name)
                if position in positions:
                    continue
                positions.add(position)
                statement = self.statements[position]
                todo += [(n, position) for n in statement.now] + [(n, end) for n in statement.later]
        imports = {p: frozenset(names) for p, names in used.items()
                   if isinstance(self.statements[p].node, (ast.Import, ast.ImportFrom))}
        return Answer([], tuple(sorted(positions)), imports, frozenset(unbound))

    def _node(self, position: int, names: Dict[int, FrozenSet[str]]) -> ast.stmt:
        """The statement as the closure runs it: an import keeps only the aliases the answer reads."""
        node = self.statements[position].node
        if position in names and isinstance(node, (ast.Import, ast.ImportFrom)):
            kept = [a for a in node.names if (a.asname or a.name).split(".")[0] in names[position]]
            node = ast.copy_location(type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": kept}),
                                     node)
        return node

    def answer(self, policy: Policy, names: Iterable[str], cell_ids: Sequence[str] = ()) -> Answer:
        """The question's closure, checked against its policy: its findings, in source order."""
        names = list(names)
        answer = self.closure(names, cell_ids)
        missing = sorted(answer.unbound)
        if missing and self.opaque:   # part of the answer exists only where the scan cannot look
            answer.findings = [Finding("review", f"{missing[0]}, defined nowhere the scan can read, beside "
                                       f"{self.opaque[0].describe()}", 0, 0)]
            return answer
        nodes = [(self.statements[p].cell, self._node(p, answer.names)) for p in answer.positions]
        # Names the closure binds at top level are its own values, wherever they are read (imports rebind theirs).
        top = _bound_here(node for _, node in nodes if not isinstance(node, (ast.Import, ast.ImportFrom)))
        checker = _Checker(policy, top, _own_names(node for _, node in nodes))
        try:
            for cell, node in nodes:
                checker.cell = cell + 1
                checker.visit(node)
                ast.unparse(node)   # what `program` will do with it, if the answer is clean
        except RecursionError:   # nested too deeply to read: a person looks, the rest of the batch goes on
            checker.findings.append(Finding("review", "code nested too deeply for the scan to read", checker.cell, 0))
        answer.findings = sorted(set(checker.findings), key=lambda f: (f.cell, f.line, f.what))
        return answer

    def program(self, answers: Iterable[Answer]) -> List[dict]:
        """The union of clean answers' closures as cells for the runner: one cell per notebook cell, in order."""
        names: Dict[int, Set[str]] = {}
        for answer in answers:
            for position in answer.positions:
                names.setdefault(position, set())
            for position, aliases in answer.names.items():
                names[position] |= aliases
        frozen = {p: frozenset(v) for p, v in names.items()
                  if isinstance(self.statements[p].node, (ast.Import, ast.ImportFrom))}
        by_cell: Dict[int, List[ast.stmt]] = {}
        for position in sorted(names):
            by_cell.setdefault(self.statements[position].cell, []).append(self._node(position, frozen))
        return [{"index": index, "id": self.cells[index].get("id"),
                 "source": ast.unparse(ast.Module(body=body, type_ignores=[]))} for index, body in by_cell.items()]


def scan_cell(source: str, policy: Optional[Policy] = None) -> List[Finding]:
    """The policy's findings (by default the strictest: library and autograd forbidden) on one cell read as an answer
    in full: every statement of it, and what they read."""
    policy = Policy(autograd=True) if policy is None else policy
    notebook = Notebook([{"id": "cell", "source": source}])
    return notebook.answer(policy, [], ["cell"]).findings
