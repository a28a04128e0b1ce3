"""Deciding, outside the submission's process, whether an answer used what its question forbids.

Two kinds of evidence, combined by `grading.judge`:

* the notebook's source, read here (an AST walk of every code cell, after IPython's own syntax transforms): a
  reference to a convolution, pooling, unfold/fold or im2col function or module (torch's, scipy's, numpy's, the
  book's), to `torch.ops`, `torch._C` or `__wrapped__` is *forbidden*; code whose target cannot be read from the
  source (`eval`/`exec`, `getattr` with a computed name, `importlib`, `__import__`, `sys.modules`, frames,
  private attributes, the shell, the grader's own modules) needs *review* by a person;
* an operation-level trace taken by the runner while the tests call the answer (`FORBIDDEN_OPS`, `AUTOGRAD_OPS`,
  applied to ATen operator names), which catches a forbidden call reached through a helper defined elsewhere.

The source check is the wall: nothing a cell does at run time can change what its source says. The trace runs in
the submission's process, so on its own it is evidence, not proof; defeating it needs exactly the introspection the
source check sends to review.
"""
from __future__ import annotations

import ast
import functools
import importlib.machinery
import os
import re
import sys
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

__all__ = ["Finding", "Notebook", "scan_cell", "FORBIDDEN_OPS", "AUTOGRAD_OPS", "WATCHED_MODULES", "is_scaffold"]

# ATen operator names (a trace's `func.overloadpacket.__name__`) that compute a convolution or pooling for you.
FORBIDDEN_OPS = r"(^|_)(conv(olution)?[a-z0-9_]*|[a-z0-9_]*pool[a-z0-9_]*|im2col|col2im|unfold[a-z_]*|fold)$"
# ... and those that only run when autograd differentiates something.
AUTOGRAD_OPS = r"_backward(_data|_input|_weight)?$"

# Libraries whose convolution or pooling the ATen trace cannot see (they are not torch): the runner reports which of
# them the run loaded, and one the source never imports was reached by a route the source hides.
WATCHED_MODULES = ("scipy.signal", "scipy.ndimage", "cv2", "skimage")   # not PIL.ImageFilter: PIL.Image loads it

# Attribute or imported names that are a library's convolution, pooling or window extraction.
_OPERATION = re.compile(r"^(conv\w*|\w*Conv\w*|\w+_conv\w*|\w*convolution\w*|\w*[pP]ool(ing)?\w*|unfold\w*|Unfold|"
                        r"fold|Fold|im2col|col2im|correlate\w*|convolve\w*|\w*fftconvolve|oaconvolve|"
                        r"mkldnn\w*|cudnn\w*|miopen\w*|slow_conv\w*|thnn\w*|sliding_window_view|view_as_windows)$")
_FORBIDDEN_MODULES = ("scipy.signal", "scipy.ndimage", "book.conv", "book.pool", "book.shapes", "book.cost",
                      "book.viz", "book.train", "torch.ops", "torch._C", "PIL.ImageFilter", "cv2", "skimage")
_ALLOWED_BOOK = ("book.data",)
_AUTOGRAD = {"backward", "grad", "autograd", "enable_grad", "set_grad_enabled", "func", "functorch", "vjp", "jvp",
             "jacrev", "jacfwd", "hessian", "vmap", "grad_fn", "retain_grad", "register_hook"}
_REVIEW_CALLS = {"eval", "exec", "compile", "__import__", "globals", "locals", "vars", "breakpoint",
                 "get_ipython", "memoryview"}
_NAME_ACCESS = {"getattr", "setattr", "delattr", "hasattr"}
_REVIEW_MODULES = ("importlib", "ctypes", "cffi", "gc", "inspect", "builtins", "marshal", "pickle",
                   "dill", "cloudpickle", "runpy", "subprocess", "multiprocessing", "code", "codeop", "pty",
                   "signal", "socket", "threading", "_thread", "resource", "mmap", "pdb", "trace",
                   "tracemalloc", "faulthandler", "grading", "otter", "book.grade", "IPython", "ipykernel",
                   "torch.utils._python_dispatch", "torch.overrides", "torch.library", "torch.utils.cpp_extension",
                   "numpy.ctypeslib", "concurrent", "asyncio", "atexit", "pkgutil", "pydoc", "timeit", "cProfile",
                   "profile", "doctest", "sympy", "yaml", "copyreg", "shelve", "zipimport", "numba", "cython",
                   "torch.jit", "torch.fx", "torch.export", "torch.compiler", "torch.hub",
                   # ... and what resolves a name, or runs code, given as a string (so the source shows only data)
                   "unittest", "logging.config", "torch.utils.benchmark", "torch.package", "torch.multiprocessing",
                   "torch.distributed", "traitlets", "jinja2", "numexpr", "site", "sysconfig")
_REVIEW_ATTRIBUTES = {"system", "popen", "fork", "forkpty", "kill", "killpg", "fdopen", "dup", "dup2", "write",
                      "pipe", "setsid", "abort", "spawnv", "spawnl", "execv", "execl", "execve", "execvp",
                      "posix_spawn", "modules", "tb_frame", "tb_next", "f_back", "f_locals", "f_globals",
                      "f_builtins", "f_code", "gi_frame", "cr_frame", "ag_frame", "co_code", "func_globals",
                      "attrgetter", "methodcaller", "load_library", "from_file", "run_cell", "user_ns", "settrace",
                      "setprofile", "FunctionType", "CodeType", "LambdaType", "MethodType", "jit", "fx", "export",
                      "compile", "compiler", "hub", "load_inline", "resolve_name", "locate",
                      # string -> object: a format field, an annotation, an import path, a pickled reference
                      "get_field", "vformat", "Formatter", "get_type_hints", "ForwardRef", "get_annotations",
                      "import_item", "import_string", "import_module", "compile_expression", "Unpickler",
                      "ForkingPickler", "read_pickle", "find_class", "meta_path", "path_hooks",
                      "path_importer_cache", "new_class", "make_dataclass",
                      # raw addresses and arrays built on them
                      "ctypes", "DummyArray", "data_ptr", "untyped_storage"}
# Attributes flagged only on these modules (`sys.path` changes where `import` looks; `os.path` is harmless).
_OWNED = {"write": ("os", "sys", "posix"), "modules": ("os", "sys", "posix"), "system": ("os", "sys", "posix"),
          "kill": ("os", "sys", "posix"), "pipe": ("os", "sys", "posix"), "path": ("sys",),
          "eval": ("pandas", "numexpr"), "query": ("pandas",),
          # numpy's as_strided does not check bounds: with an address it reads and writes any byte of the process
          "as_strided": ("numpy",)}
_ALLOWED_DUNDERS = {"__init__", "__name__", "__doc__", "__len__", "__call__", "__repr__", "__str__"}
# Hooks that make the interpreter, torch or numpy run a class's own code from inside their machinery (a tensor
# subclass's __torch_dispatch__ runs where the trace has stepped aside), or read names held as text.
_HOOKS = {"__torch_dispatch__", "__torch_function__", "__array_function__", "__array_ufunc__", "__array_finalize__",
          "__array_wrap__", "__array_prepare__", "__array_interface__", "__array_struct__", "__array__",
          "__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__reduce__", "__reduce_ex__",
          "__setstate__", "__del__", "__match_args__", "__init_subclass__", "__set_name__", "__class_getitem__",
          "__instancecheck__", "__subclasscheck__", "__prepare__", "__mro_entries__", "__set__", "__get__",
          "__dlpack__", "__index__"}

# otter's set-up and check cells: the runner skips them (it gets this pattern in its job), so the scan does too.
SCAFFOLD = re.compile(r"^(import otter|grader\s*=\s*otter\.Notebook\(.*\)|grader\.\w+\(.*\))$")


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

    def describe(self) -> str:   # cell 0: evidence from the run, not from one place in the source
        return f"{self.what} (code cell {self.cell}, line {self.line})" if self.cell else self.what


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


def _hides_target(name: str, owner: str) -> bool:
    """Whether attribute `name` of module `owner` (as imported) reaches code or objects the source cannot show."""
    top = owner.split(".")[0]
    if name in ("load", "loads") and top != "json":
        return True   # unpickling resolves any function by its name
    return (name in _REVIEW_ATTRIBUTES and (name not in _OWNED or top in ("os", "sys", "posix", "types", "operator"))
            or top in _OWNED.get(name, ()))


def _module_matches(module: str, prefixes: Iterable[str]) -> Optional[str]:
    return next((p for p in prefixes if module == p or module.startswith(p + ".")), None)


class _Scanner(ast.NodeVisitor):
    def __init__(self, cell: int, defined: Set[str], self_is_instance: bool = True) -> None:
        self.cell, self.defined, self.self_is_instance = cell, defined, self_is_instance
        self.findings: List[Finding] = []
        self.aliases: Dict[str, str] = {}   # local name -> module it was imported as

    def add(self, kind: str, what: str, node: ast.AST) -> None:
        self.findings.append(Finding(kind, what, self.cell, getattr(node, "lineno", 0)))

    def _import(self, module: str, node: ast.AST, names: Sequence[str] = ()) -> None:
        if not _installed(module.split(".")[0]):
            # Not part of the interpreter's installation: a module the notebook wrote itself (`open("m.py", "w")`,
            # `%%writefile`), whose code this scan never sees.
            self.add("review", f"import of {module or '.'}, which is not an installed module", node)
            return
        if _module_matches(module, _REVIEW_MODULES) or any(part.startswith("_") for part in module.split(".")):
            if module not in ("torch._C",):
                self.add("review", f"import of {module}", node)
                return
        if _module_matches(module, _FORBIDDEN_MODULES):
            self.add("forbidden", module, node)
            return
        if (module == "book" or module.startswith("book.")) and not _module_matches(module, _ALLOWED_BOOK):
            if module != "book" or any(n not in ("data",) for n in names) or not names:
                self.add("forbidden", f"the book's helpers ({module})", node)
                return
        for name in names:
            if name == "*" and module.split(".")[0] in ("torch", "numpy", "scipy", "book"):
                self.add("forbidden", f"from {module} import *", node)
            elif name != "*" and _OPERATION.match(name):
                self.add("forbidden", f"{module}.{name}", node)
            elif name in _AUTOGRAD:
                self.add("autograd", f"{module}.{name}", node)
            elif name.startswith("_"):
                self.add("review", f"{module}.{name}", node)
            elif f"{module}.{name}" in ("scipy.signal", "scipy.ndimage", "book.conv", "book.pool"):
                self.add("forbidden", f"{module}.{name}", node)
            elif _hides_target(name, module):
                self.add("review", f"{module}.{name}", node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(alias.name, node)
            self.aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else \
                alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        self._import(module, node, [a.name for a in node.names])
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        owner = _dotted(node.value)
        base = owner.split(".")[0] if owner else ""
        full = f"{self.aliases.get(base, base)}{owner[len(base):]}.{name}" if owner else f"(...).{name}"
        if base == "self" and self.self_is_instance:
            pass   # the student's own object's attributes (self.conv1 in a module they wrote)
        elif name == "__wrapped__" or name == "ops" or name == "_C":
            self.add("forbidden", full, node)
        elif name.startswith("_") and name not in _ALLOWED_DUNDERS:
            if not full.startswith(("torch._C", "torch.ops")):   # already forbidden as a whole
                self.add("review", full, node)
        elif _OPERATION.match(name) or name in ("signal", "ndimage") and base in self.aliases:
            self.add("forbidden", full, node)
        elif name in _AUTOGRAD:
            self.add("autograd", full, node)
        elif _hides_target(name, self.aliases.get(base, base)):
            self.add("review", full, node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in _HOOKS:
            self.add("review", f"a class's own {node.name}", node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in _HOOKS:   # `__torch_dispatch__ = handler` in a class body
            self.add("review", f"a class's own {node.id}", node)
            return
        name = node.id
        if name in _REVIEW_CALLS or name in ("__builtins__", "__loader__", "__spec__"):
            self.add("review", f"{name}", node)
        elif name in _NAME_ACCESS:
            self.add("review", f"{name} with a name computed at run time", node)   # unless visit_Call saw a literal
        elif _OPERATION.match(name) and name not in self.defined:
            self.add("forbidden", name, node)

    def visit_Match(self, node: ast.Match) -> None:
        # `case object(conv2d=c)` reads `subject.conv2d`: each keyword of a class pattern is an attribute access
        # that the AST holds as text. (A nested pattern's subject is an attribute of this one: read it as this.)
        for case in node.cases:
            for pattern in ast.walk(case.pattern):
                if isinstance(pattern, ast.MatchClass):
                    for name in pattern.kwd_attrs:
                        self.visit_Attribute(ast.copy_location(ast.Attribute(value=node.subject, attr=name,
                                                                             ctx=ast.Load()), pattern))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if isinstance(function, ast.Name) and function.id in _NAME_ACCESS and len(node.args) >= 2 \
                and isinstance(node.args[1], ast.Constant) and type(node.args[1].value) is str:
            # getattr(obj, "literal") reads like obj.literal
            self.visit(node.args[0])
            self.visit_Attribute(ast.copy_location(ast.Attribute(value=node.args[0], attr=node.args[1].value), node))
            for argument in node.args[2:] + [k.value for k in node.keywords]:
                self.visit(argument)
            return
        if isinstance(function, ast.Name) and function.id == "type" and len(node.args) == 3:
            self.add("review", "type() building a class from a dict (its method names are text)", node)
        if isinstance(function, ast.Name) and function.id == "open" and node.args and \
                isinstance(node.args[0], ast.Constant) and type(node.args[0].value) is int:
            self.add("review", "open() of a file descriptor", node)
        self.generic_visit(node)


_MAGIC_CODE = re.compile(r"^(\s*)%{1,2}(time|timeit|prun)\b(\s+-\S+)*\s*")   # %timeit EXPR runs EXPR
_MAGIC_HARMLESS = re.compile(r"^\s*%(matplotlib(\s+[\w-]+)?|config(\s+InlineBackend[\w.]*)?|load_ext autoreload|"
                             r"autoreload(\s+\w+)?)\s*$")
# `%config InlineBackend.NAME = VALUE` runs `exec("cfg." + line, user_ns)`: read it as that Python, not as an inert
# magic. %config of anything else changes the shell itself (`InteractiveShell.autocall = 2` makes `f x` run as
# `f(x)`, which this scan cannot parse) and stays a magic, which goes to review.
_MAGIC_CONFIG = re.compile(r"^(\s*)%config\s+(InlineBackend\s*\..*=.*)$")


_LINE_ENDS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"   # where str.splitlines breaks
# IPython rewrites a cell's escapes (`!cmd`, `%magic`, `x = !cmd`, `obj?`) one at a time and tokenizes the whole
# cell again after each, so its cost is escapes x length: 65,536 lines of `!ls` took it 377 s, in the grader's own
# untimed process. A line that could hold an escape counts once; a notebook may spend this many (escape, character)
# pairs, at most two seconds or so of tokenizing, over all its cells (a budget per cell would let many cells multiply
# it); a cell past what is left is read as unreadable without IPython, which sends the forbidding questions to review.
_MAYBE_ESCAPE = re.compile(r"^\s*[!%?,;/]|=\s*[!%]|\?\s*$")
_TRANSFORM_BUDGET = 300_000


def _config_as_python(line: str) -> str:
    match = _MAGIC_CONFIG.match(line)
    if not match:
        return line
    python = f"{match.group(1)}cfg.{match.group(2)}"
    try:
        ast.parse(python.strip())
    except Exception:
        return line   # left as the magic: IPython's get_ipython() call, which the scan sends to review
    return python


def _python(source: str, budget: int) -> Tuple[Optional[ast.Module], int]:
    """The cell as IPython will run it, parsed (None if it cannot run: the runner fails on it too), and what is left
    of the notebook's `budget` of escape rewriting (see _TRANSFORM_BUDGET).

    `%time`/`%timeit` keep their code (so it is read like any other), display magics are dropped, and every other
    magic or shell escape becomes IPython's `get_ipython()...` call, which the scan sends to review.
    """
    from IPython.core.inputtransformer2 import TransformerManager
    # Each line keeps its own ending: str.splitlines also breaks at a form feed or U+2028, which Python reads inside a
    # string or a comment, and joining with "\n" made `s = "<FF>"; c = F.conv2d` a syntax error the scan skipped.
    cell = []
    for line in source.splitlines(keepends=True):
        content = line.rstrip(_LINE_ENDS)
        text = _MAGIC_CODE.sub(r"\1", content)
        cell.append(("" if _MAGIC_HARMLESS.match(text) else _config_as_python(text)) + line[len(content):])
    try:
        # IPython's transform_cell, in its steps: the line steps (prompts such as `>>> ` stripped, cell magics) cost
        # one pass; the escapes are counted on what they leave, which is what the costly token step rewrites.
        shell = TransformerManager()
        lines = ("".join(cell) + "\n").splitlines(keepends=True)
        for transform in shell.cleanup_transforms + shell.line_transforms:
            lines = transform(lines)
        budget -= sum(bool(_MAYBE_ESCAPE.search(line)) for line in lines) * len(source)
        if budget < 0:
            return UNREADABLE, 0
        return ast.parse("".join(shell.do_token_transforms(lines))), budget
    except SyntaxError:
        return None, budget   # IPython cannot run it either
    except Exception:   # ValueError (null bytes), RecursionError, MemoryError, IPython's own failures
        return UNREADABLE, budget


@functools.lru_cache(maxsize=None)
def _installed(top: str) -> bool:
    """Whether `import top` finds a module of the interpreter's own installation (the one the sandbox shows), not a
    file beside the grader or the notebook."""
    if top in ("book", "grading") or top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()):
        return True
    if not top.isidentifier():
        return False
    here = os.path.realpath(os.getcwd())
    paths = [p for p in sys.path if p and os.path.isabs(p) and os.path.realpath(p) != here]
    try:
        return importlib.machinery.PathFinder.find_spec(top, paths) is not None
    except (ImportError, ValueError, OSError):
        return False


def _touched(statement: ast.stmt) -> Set[str]:
    """The names a top-level statement binds or mutates (`def x`, `x = ...`, `x[k] = ...`, `x.update(...)`)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # and what it binds with `global` when it runs (`def setup(): global f; f = F.conv2d`)
        return {statement.name} | {name for node in ast.walk(statement) if isinstance(node, ast.Global)
                                   for name in node.names}
    names: Set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(_dotted(node.value).split(".")[0])
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        names |= _captured(node)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        names.add(_dotted(statement.value.func).split(".")[0])
    names.discard("")
    return names


def _receivers(statement: ast.stmt) -> Set[str]:
    """Names whose methods a statement calls anywhere in it: `x.update(...)` may change x wherever it stands
    (`print(box.setdefault("f", F.conv2d))`)."""
    return {_dotted(node.func.value).split(".")[0] for node in ast.walk(statement)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)} - {""}


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
        names |= _captured(child)
    return names


def _free(statement: ast.stmt) -> Set[str]:
    """The names a statement reads from the notebook's top level (a function's parameters and locals excluded)."""
    loaded = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        local = {a.arg for a in ast.walk(statement.args) if isinstance(a, ast.arg)}
        for node in statement.body:
            local |= _bound_anywhere(node)
        declared_global = {name for n in ast.walk(statement) if isinstance(n, ast.Global) for name in n.names}
        loaded -= local - declared_global
    return loaded


UNREADABLE = ast.Module(body=[], type_ignores=[])   # a cell the scan cannot read: Notebook._scan sends it to review


def _binds_self(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "self" and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name) == "self":
            return True
        if isinstance(node, ast.arguments):
            positional = node.posonlyargs + node.args
            with_default = positional[len(positional) - len(node.defaults):] if node.defaults else []
            keyword = [a for a, d in zip(node.kwonlyargs, node.kw_defaults) if d is not None]
            if any(a.arg == "self" for a in with_default + keyword):
                return True
    return False


class Notebook:
    """A submission's code cells, parsed once; answers `findings(question)` for each question that forbids."""

    def __init__(self, cells: Sequence[dict]) -> None:
        self.cells = list(cells)
        self.trees: List[Optional[ast.Module]] = []
        budget = _TRANSFORM_BUDGET
        for cell in self.cells:
            tree, budget = (None, budget) if is_scaffold(cell["source"]) else _python(cell["source"], budget)
            self.trees.append(tree)
        parsed = [t for t in self.trees if t is not None]
        self.defined = {name for tree in parsed for name in _bound_anywhere(tree)}
        self.aliases: Dict[str, str] = {}
        for tree in parsed:
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for a in node.names:
                        self.aliases[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                elif isinstance(node, ast.ImportFrom):
                    for a in node.names:
                        self.aliases[a.asname or a.name] = f"{node.module or ''}.{a.name}"
        # `self` means a method's own instance only while nothing else binds it (`self = F`, `lambda self=F: ...`).
        self.self_rebound = any(_binds_self(tree) for tree in parsed)
        self.statements = [(index, statement) for index, tree in enumerate(self.trees, start=1) if tree is not None
                           for statement in tree.body]
        self.binders: Dict[str, List[int]] = {}
        modules = set(self.aliases)   # `torch.zeros(...)` does not change what `torch` is
        for position, (_, statement) in enumerate(self.statements):
            for name in _touched(statement) | (_receivers(statement) - modules):
                self.binders.setdefault(name, []).append(position)

    def _scan(self, index: int, node: ast.AST) -> List[Finding]:
        if node is UNREADABLE:
            return [Finding("review", "code the scan could not read (IPython could not rewrite it, or it holds more "
                                      "shell escapes and magics than the scan rewrites)", index, 1)]
        scanner = _Scanner(index, self.defined, not self.self_rebound)
        scanner.aliases = self.aliases
        scanner.visit(node)
        return scanner.findings

    def imports(self) -> Set[str]:
        """Every module name an import statement of the notebook names (`from a.b import c`: a.b and a.b.c)."""
        imported: Set[str] = set()
        for tree in self.trees:
            for node in ast.walk(tree) if tree is not None else ():
                if isinstance(node, ast.Import):
                    imported.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module:
                    imported.add(node.module)
                    imported.update(f"{node.module}.{a.name}" for a in node.names)
        return imported

    def preload(self) -> List[str]:
        """The watched modules of every package the notebook imports: the runner loads them before any cell and
        counts their functions' calls like ATen operations, so a reference hidden from this scan is still traced."""
        tops = {name.split(".")[0] for name in self.imports()}
        return [module for module in WATCHED_MODULES if module.split(".")[0] in tops]

    def unparsed(self) -> List[int]:
        """0-based indexes of the code cells the scan could not parse (and so did not read), scaffold excluded."""
        return [i for i, (cell, tree) in enumerate(zip(self.cells, self.trees))
                if tree is None and not is_scaffold(cell["source"])]

    def hidden_loads(self, loaded: Iterable[str]) -> List[Finding]:
        """A review finding for each watched module the run `loaded` (see WATCHED_MODULES) that no import in the
        source names: the notebook reached it through a string, a written file or other code the scan cannot read."""
        imported = self.imports()
        return [Finding("review", f"{module}, which the run loaded but no import in the notebook names", 0, 0)
                for module in sorted(set(loaded))
                if not any(name == module or name.startswith(module + ".") for name in imported)]

    def review(self) -> List[Finding]:
        """What hides its target, from every cell: such code could reach anything, whoever calls it."""
        return [f for index, tree in enumerate(self.trees, start=1) if tree is not None
                for f in self._scan(index, tree) if f.kind == "review"]

    def findings(self, question, parameters: Iterable[str]) -> List[Finding]:
        """Forbidden (and review) findings in the code a question's answer can reach.

        That code is every top-level statement that defines or changes a name the question's tests call
        (`parameters`), every statement that defines or changes a name those read, and so on transitively: a
        helper defined in another cell counts, a network trained for another question in the same cell does not.
        """
        todo = [p for name in parameters for p in self.binders.get(name, [])]
        if not parameters:   # a test that reads the whole namespace: the question's own cells are its answer
            own = set(question.cell_ids)
            todo = [p for p, (index, _) in enumerate(self.statements) if self.cells[index - 1].get("id") in own]
        seen: Set[int] = set()
        names_seen: Set[str] = set()
        found: List[Finding] = []
        while todo:
            position = todo.pop()
            if position in seen:
                continue
            seen.add(position)
            index, statement = self.statements[position]
            for finding in self._scan(index, statement):
                if finding.kind == "forbidden" or (finding.kind == "autograd" and question.forbids_autograd):
                    found.append(finding)
            # Each statement at most once in `todo`: a name bound by thousands of statements must not make this
            # quadratic (the scan runs in the grader's process, outside any time limit).
            for name in _free(statement) - names_seen:
                names_seen.add(name)
                todo += [p for p in self.binders.get(name, []) if p not in seen]
        return sorted(set(found), key=lambda f: (f.cell, f.line)) + self.review()


def scan_cell(source: str) -> List[Finding]:
    """Everything the scan finds in one cell (for tests and messages)."""
    notebook = Notebook([{"id": None, "source": source}])
    tree = notebook.trees[0]
    return [] if tree is None else notebook._scan(1, tree)
