"""What an answer to a question that forbids library calls may use: one allow-list, read by the grader and by a
student's own `grader.check`.

A question whose tests call the student's code inside `no_library()` asks for an operation written by hand. What
decides is the answer's *closure* (the definitions the tests' names lead to, `grading.forbidden`), never the rest
of the notebook, and inside it every reference must be on this list:

* plain Python: the builtins in `BUILTINS` (those in `DYNAMIC_BUILTINS` hide their target, so a person reviews them);
* the modules in `MODULES`, each with the attributes it allows (`ALL`: every public one, less `EXCLUDED`);
* the methods and attributes of the values those return (`METHODS`: tensors, arrays, containers, numbers, strings),
  less the operations a question asks for (`OPERATION`);
* the student's own functions, classes and their methods and attributes, whatever they are called.

Autograd (`AUTOGRAD`, `AUTOGRAD_METHODS`) is allowed unless the question also forbids it (`no_library(autograd=True)`).
A question may add names to the list or take them away: `allow:` and `forbid:` beside `points:` in its source.
"""
from __future__ import annotations

import builtins
import functools
import re
from dataclasses import dataclass
from typing import FrozenSet, Optional, Tuple

ALL = "*"

# Library names that compute what the exercises ask students to write: convolution, correlation, pooling, window
# extraction (unfold/fold/im2col), in any library. Never allowed, whatever a module's entry says.
OPERATION = re.compile(r"(conv|correlat|pool|unfold|^fold$|_fold|im2col|col2im|sliding_window|view_as_windows|"
                       r"mkldnn|cudnn|miopen|fft)", re.IGNORECASE)

BUILTINS = frozenset("""
abs all any ascii bin bool bytearray bytes callable chr complex dict divmod enumerate filter float format frozenset
hash hex id int isinstance issubclass iter len list map max min next object oct ord pow print property range repr
reversed round set slice sorted staticmethod classmethod str sum super tuple type zip NotImplemented Ellipsis True
False None
ArithmeticError AssertionError AttributeError Exception IndexError KeyError LookupError NotImplementedError
OverflowError RuntimeError StopIteration TypeError ValueError ZeroDivisionError
""".split())
# Builtins whose target is text or a computed name: what they reach cannot be read from the source.
DYNAMIC_BUILTINS = frozenset({"eval", "exec", "compile", "__import__", "globals", "locals", "vars", "getattr",
                              "setattr", "delattr", "hasattr", "breakpoint", "memoryview", "open", "input",
                              "__build_class__", "__builtins__", "__loader__", "__spec__", "help", "dir"})

_TORCH = """
tensor as_tensor from_numpy zeros ones full empty zeros_like ones_like full_like empty_like arange linspace logspace
eye rand randn randint randperm rand_like randn_like randint_like manual_seed Generator seed normal bernoulli
multinomial
stack cat concat concatenate hstack vstack dstack column_stack flatten reshape flip fliplr flipud rot90 roll
transpose permute movedim swapaxes squeeze unsqueeze split chunk narrow tile repeat_interleave meshgrid where
index_select gather scatter masked_select take diag diagonal diag_embed tril triu block_diag broadcast_to
broadcast_tensors atleast_1d atleast_2d atleast_3d kron cartesian_prod combinations t select nonzero
matmul mm bmm mv dot vdot inner outer tensordot einsum baddbmm addmm addmv addbmm chain_matmul
sum mean max min amax amin argmax argmin aminmax abs exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square pow
sin cos tan tanh sinh cosh asin acos atan atan2 sigmoid relu clamp clip maximum minimum fmax fmin sign signbit floor
ceil round trunc frac prod cumsum cumprod sort argsort topk kthvalue median mode std var norm dist count_nonzero
any all isclose allclose equal eq ne lt le gt ge isnan isinf isfinite logical_and logical_or logical_not
logical_xor bitwise_and bitwise_or bitwise_not floor_divide div true_divide remainder fmod add sub mul neg
reciprocal lerp addcmul addcdiv softmax log_softmax logsumexp heaviside unique unique_consecutive bincount
histc searchsorted bucketize diff numel is_tensor is_floating_point is_complex result_type promote_types can_cast
get_default_dtype set_printoptions finfo iinfo no_grad inference_mode unravel_index clone is_grad_enabled Tensor Size dtype device
float float16 float32 float64 double half bfloat16 int int8 int16 int32 int64 long short uint8 bool complex64
complex128 cfloat cdouble strided contiguous_format channels_last inf nan pi e
nn linalg random testing optim utils as_strided
""".split()

MODULES = {
    "torch": frozenset(_TORCH),
    "torch.nn": frozenset("""Module Parameter ModuleList ModuleDict ParameterList ParameterDict Sequential Linear
        Bilinear Identity Flatten Unflatten ReLU LeakyReLU ELU GELU SiLU Sigmoid Tanh Softmax LogSoftmax Dropout
        CrossEntropyLoss MSELoss NLLLoss L1Loss BCELoss BCEWithLogitsLoss init functional""".split()),
    "torch.nn.functional": frozenset("""pad relu relu6 leaky_relu elu gelu silu sigmoid tanh softmax log_softmax
        one_hot normalize linear dropout cross_entropy nll_loss mse_loss l1_loss binary_cross_entropy
        binary_cross_entropy_with_logits""".split()),
    "torch.nn.init": ALL,
    "torch.linalg": ALL,
    "torch.random": frozenset({"manual_seed", "seed", "initial_seed"}),
    "torch.testing": frozenset({"assert_close"}),
    "torch.optim": frozenset({"SGD", "Adam", "AdamW", "lr_scheduler"}),
    "torch.utils": frozenset({"data"}),
    "torch.utils.data": frozenset({"TensorDataset", "DataLoader", "Dataset"}),
    "numpy": frozenset("""
        array asarray asanyarray zeros ones full empty zeros_like ones_like full_like empty_like arange linspace eye
        identity stack concatenate hstack vstack dstack column_stack reshape ravel transpose swapaxes moveaxis flip
        fliplr flipud rot90 roll squeeze expand_dims broadcast_to tile repeat pad split array_split where take
        diag diagonal tril triu trace kron dot vdot inner outer matmul tensordot einsum sum mean max min amax amin
        argmax argmin abs absolute exp log log2 log10 sqrt square power sin cos tan tanh maximum minimum clip sign
        floor ceil round around rint trunc prod cumsum cumprod sort argsort median std var allclose isclose
        array_equal any all isnan isinf isfinite count_nonzero nonzero unique floor_divide mod divide multiply add
        subtract negative reciprocal shape ndim size newaxis ndarray dtype float16 float32 float64 int8 int16
        int32 int64 uint8 bool_ inf nan pi e random linalg set_printoptions testing prod product
        result_type promote_types can_cast unravel_index ravel_multi_index argwhere indices ix_ ogrid mgrid meshgrid
        atleast_1d atleast_2d atleast_3d nansum nanmax nanmin cumsum diff einsum_path iinfo finfo issubdtype
        integer floating number bool float_ int_ copy append insert delete full_like frombuffer fromiter
        lib""".split()),
    # numpy's as_strided checks no bounds; the grading runner puts a bounded one in its place
    # (grading.checks.bound_numpy_as_strided).
    "numpy.lib": frozenset({"stride_tricks"}),
    "numpy.lib.stride_tricks": frozenset({"as_strided"}),
    "numpy.random": ALL,
    "numpy.linalg": ALL,
    "numpy.testing": frozenset({"assert_allclose", "assert_array_equal", "assert_equal"}),
    "math": ALL, "cmath": ALL, "itertools": ALL, "collections": ALL, "statistics": ALL, "random": ALL,
    "fractions": ALL, "decimal": ALL, "numbers": ALL, "enum": ALL, "abc": ALL, "copy": ALL, "heapq": ALL,
    "bisect": ALL, "time": frozenset({"time", "perf_counter", "monotonic", "process_time"}),
    "functools": frozenset({"reduce", "partial", "lru_cache", "cache", "cached_property", "wraps", "total_ordering",
                            "cmp_to_key"}),
    "operator": frozenset({"add", "sub", "mul", "truediv", "floordiv", "mod", "neg", "pow", "matmul", "and_",
                           "or_", "xor", "not_", "eq", "ne", "lt", "le", "gt", "ge", "abs", "index"}),
    "typing": ALL,
    "dataclasses": frozenset({"dataclass", "field", "fields", "asdict", "astuple", "replace", "InitVar"}),
    "__future__": ALL,
    # Showing work: plots, progress bars and rich output inside an answer compute nothing the question asks for.
    "matplotlib": frozenset({"pyplot"}),
    "matplotlib.pyplot": ALL,
    "tqdm": frozenset({"tqdm", "trange", "auto", "notebook"}),
    "tqdm.auto": frozenset({"tqdm", "trange"}),
    "tqdm.notebook": frozenset({"tqdm", "trange"}),
    "IPython.display": frozenset({"display", "Markdown", "HTML", "Math", "Latex", "clear_output"}),
}
# Public names of an ALL module that still reach code the source does not show.
EXCLUDED = frozenset({"get_type_hints", "ForwardRef", "get_annotations", "methodcaller", "attrgetter",
                      "make_dataclass", "load", "loads", "getLogger"})

# torch's autograd, allowed except where a question asks for gradients by hand.
AUTOGRAD = frozenset({"torch.autograd", "torch.func", "torch.enable_grad", "torch.set_grad_enabled",
                      "torch.autograd.grad", "torch.autograd.backward", "torch.autograd.functional"})
AUTOGRAD_METHODS = frozenset({"backward", "grad", "requires_grad_", "retain_grad", "register_hook", "grad_fn",
                              "requires_grad", "retains_grad"})

# Methods that hand out raw memory or the storage behind a tensor: reading them hides what the code touches.
_RAW = frozenset({"data_ptr", "untyped_storage", "storage", "ctypes", "storage_offset", "set_", "share_memory_",
                  "_base", "tobytes", "tofile", "view_as_real", "view_as_complex", "numpy_ctypes"})

# Hooks through which torch, numpy or the interpreter run a class's own code from inside their machinery (a tensor
# subclass's __torch_dispatch__ runs while the operation trace steps aside), or read names held as text.
HOOKS = frozenset({"__torch_dispatch__", "__torch_function__", "__array_function__", "__array_ufunc__",
                   "__array_finalize__", "__array_wrap__", "__array_prepare__", "__array_interface__",
                   "__array_struct__", "__array__", "__getattr__", "__getattribute__", "__setattr__", "__delattr__",
                   "__reduce__", "__reduce_ex__", "__setstate__", "__del__", "__init_subclass__", "__set_name__",
                   "__class_getitem__", "__instancecheck__", "__subclasscheck__", "__prepare__", "__mro_entries__",
                   "__set__", "__get__", "__dlpack__", "__index__", "__format__"})
# Dunder attributes that are plain data or the usual protocol of an object the student wrote.
PLAIN_DUNDERS = frozenset({"__init__", "__name__", "__doc__", "__len__", "__call__", "__repr__", "__str__",
                           "__getitem__", "__setitem__", "__iter__", "__next__", "__contains__", "__add__",
                           "__mul__", "__matmul__", "__sub__", "__truediv__", "__neg__", "__eq__", "__lt__",
                           "__hash__", "__post_init__", "__enter__", "__exit__", "__radd__", "__rmul__"})


@functools.lru_cache(maxsize=None)
def methods() -> FrozenSet[str]:
    """Public attributes of the values an allowed module hands out (tensors, arrays, containers, numbers, text),
    less the operations the exercises ask for and raw memory."""
    import numpy
    import torch
    kinds = (torch.Tensor, torch.Size, torch.dtype, torch.Generator, torch.nn.Module, torch.nn.Parameter,
             torch.finfo, torch.iinfo, numpy.ndarray, numpy.dtype, numpy.generic, list, tuple, dict, set,
             frozenset, str, bytes, int, float, complex, bool, range, slice, type({}.items()), type({}.keys()))
    names = {name for kind in kinds for name in dir(kind) if not name.startswith("_")}
    return frozenset(n for n in names if not OPERATION.search(n) and n not in _RAW and n not in AUTOGRAD_METHODS)


@dataclass(frozen=True)
class Policy:
    """A question's list: the default one, with the names its source adds (`allow`) or takes away (`forbid`)."""
    autograd: bool = False            # the question also forbids autograd
    allow: Tuple[str, ...] = ()       # dotted names, e.g. "torch.nn.functional.unfold"
    forbid: Tuple[str, ...] = ()      # dotted names or method names, e.g. "torch.einsum", "einsum"

    def path(self, dotted: str) -> Optional[Tuple[str, str]]:
        """None if `dotted` (a module's attribute, e.g. "torch.nn.functional.pad") is allowed, else (kind, why):
        kind "forbidden" or "autograd"."""
        if _listed(dotted, self.forbid):
            return "forbidden", f"{dotted}, which this question forbids"
        if _listed(dotted, self.allow):
            return None
        if any(dotted == a or dotted.startswith(a + ".") for a in AUTOGRAD):
            return ("autograd", dotted) if self.autograd else None
        parts = dotted.split(".")
        if any(OPERATION.search(part) for part in parts[1:]) or any(p.startswith("_") for p in parts[1:]):
            return "forbidden", dotted
        for cut in range(len(parts), 0, -1):   # the longest listed module, then what it allows
            module = ".".join(parts[:cut])
            if module in MODULES:
                if cut == len(parts):
                    return None
                allowed = MODULES[module]
                name = parts[cut]
                if allowed == ALL and name not in EXCLUDED or allowed != ALL and name in allowed:
                    rest = parts[cut + 1:]   # the attributes of what it returns: torch.Tensor.sum
                    if not rest or all(r in methods() or r in MODULES.get(f"{module}.{name}", ()) for r in rest):
                        return None
                return "forbidden", dotted
        return "forbidden", dotted

    def method(self, name: str, own: FrozenSet[str]) -> Optional[Tuple[str, str]]:
        """None if `.name` on a value is allowed: the student's own attribute or method, or one of `methods()`."""
        if name in self.forbid:
            return "forbidden", f".{name}(), which this question forbids"
        if name in own or name in self.allow:
            return None
        if name in AUTOGRAD_METHODS:
            return ("autograd", f".{name}") if self.autograd else None
        if name.startswith("_") and name not in PLAIN_DUNDERS:
            return "review", f".{name}"
        if name in methods() or name in PLAIN_DUNDERS:
            return None
        return "forbidden", f".{name}"

    def builtin(self, name: str) -> Optional[Tuple[str, str]]:
        if name in self.forbid:
            return "forbidden", f"{name}(), which this question forbids"
        if name in BUILTINS or name in self.allow:
            return None
        if name in DYNAMIC_BUILTINS:
            return "review", f"{name}()"
        return "forbidden", f"the builtin {name}"


def _listed(dotted: str, names: Tuple[str, ...]) -> bool:
    return any(dotted == n or dotted.startswith(n + ".") for n in names)


def is_builtin(name: str) -> bool:
    return hasattr(builtins, name) or name in ("__builtins__", "__loader__", "__spec__")
