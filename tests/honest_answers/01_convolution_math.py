"""Honest answers students write to exercise 1 (the mathematics of convolution): label -> variant.

Every answer here is correct and written by hand; the extra cells only look at it, print it, time it or check it
against a library, so every variant must earn full marks."""

HONEST = {
    "convolve1d by the definition, nested loops, type hints, docstring, asserts; checked with numpy": {
        "answers": ['''
def convolve1d(x: torch.Tensor, w: torch.Tensor, mode: str = "full") -> torch.Tensor:
    """y[t] = sum_j w[j] * x[t - j]  (the kernel is flipped: w[0] weights the newest input)."""
    assert x.dim() == 1 and w.dim() == 1, "x and w must be 1D"
    assert mode in ("full", "valid", "same"), f"unknown mode {mode}"
    n, k = x.shape[0], w.shape[0]
    y = torch.zeros(n + k - 1, dtype=torch.result_type(x, w))
    for t in range(n + k - 1):
        for j in range(k):
            if 0 <= t - j < n:
                y[t] += w[j] * x[t - j]
    if mode == "valid":
        y = y[k - 1:n]
    elif mode == "same":
        y = y[(k - 1) // 2:(k - 1) // 2 + n]
    return y


print(convolve1d(torch.tensor([1.0, 0, 0, 2, 0, 0, 0]), torch.tensor([1.0, 0.5, 0.25])))
'''],
        "after": ['''
import numpy as np
x, w = torch.randn(9), torch.randn(4)
for mode in ("full", "valid", "same"):
    print(mode, np.allclose(convolve1d(x, w, mode).numpy(), np.convolve(x.numpy(), w.numpy(), mode), atol=1e-5))
'''],
    },
    "convolve1d as a list comprehension over a padded input, torch.stack": {
        "answers": ['''
def convolve1d(x, w, mode="full"):
    n, k = len(x), len(w)
    dtype = torch.result_type(x, w)
    zeros = torch.zeros(k - 1, dtype=dtype)
    xp = torch.cat([zeros, x.to(dtype), zeros])          # pad k-1 zeros on each side
    wf = torch.flip(w, dims=[0]).to(dtype)                 # convolution = correlation with the flipped kernel
    full = torch.stack([(xp[t:t + k] * wf).sum() for t in range(n + k - 1)])
    if mode == "full":
        return full
    if mode == "valid":
        return full[k - 1:n]
    start = (k - 1) // 2
    return full[start:start + n]
'''],
        "after": ["#md: **Note.** `same` keeps `n` outputs, starting at `(k-1)//2` of the full result, like numpy.",
                  "!pip list | head -3"],
    },
    "convolve1d by recursion on the kernel (full result built from shorter kernels)": {
        "answers": ['''
def convolve1d(x, w, mode="full"):
    def full(x, w):
        # x * w = w[0] x  +  (x * w[1:]) delayed by one step
        n, k = len(x), len(w)
        y = torch.zeros(n + k - 1, dtype=torch.result_type(x, w))
        y[:n] += w[0] * x
        if k > 1:
            y[1:] += full(x, w[1:])
        return y

    n, k = len(x), len(w)
    y = full(x, w)
    if mode == "valid":
        return y[k - 1:n]
    if mode == "same":
        return y[(k - 1) // 2:(k - 1) // 2 + n]
    return y
'''],
    },
    "filters from numpy arrays and list literals, with a plot beside them": {
        "answers": ['''
import numpy as np

central_difference = torch.tensor(np.array([1.0, 0.0, -1.0]) / 2)   # flipped: next minus previous, halved
second_difference = torch.tensor([1.0, -2.0, 1.0])


def moving_average(k):
    return torch.ones(k) / k
'''],
        "after": ['''
import matplotlib.pyplot as plt
t = torch.linspace(0, 6.28, 50)
x = torch.sin(t)
plt.plot(t, x, label="sin")
plt.plot(t[1:-1], convolve1d(x, central_difference, "valid") / (t[1] - t[0]), label="slope")
plt.plot(t[2:-2], convolve1d(x, moving_average(5), "valid"), label="smoothed")
plt.legend()
plt.show()
'''],
    },
    "output shape with a dict of modes, asserts and help()": {
        "answers": ['''
def corr2d_output_shape(input_shape, kernel_shape, mode="valid"):
    """Output shape (rows, columns) of a 2D correlation in mode valid, same or full."""
    assert len(input_shape) == 2 and len(kernel_shape) == 2
    n_h, n_w = input_shape
    k_h, k_w = kernel_shape
    shapes = {
        "valid": (n_h - k_h + 1, n_w - k_w + 1),
        "same": (n_h, n_w),
        "full": (n_h + k_h - 1, n_w + k_w - 1),
    }
    if mode not in shapes:
        raise ValueError("mode must be valid, same or full")
    if mode == "valid" and (k_h > n_h or k_w > n_w):
        raise ValueError("the kernel does not fit in the input")
    return shapes[mode]
'''],
        "after": ["help(corr2d_output_shape)",
                  "import inspect\nprint(inspect.signature(corr2d_output_shape))"],
    },
    "corr2d with numpy inside: convert, loop, convert back": {
        "answers": ['''
import numpy as np


def corr2d(X, K):
    Xn, Kn = X.numpy(), K.numpy()
    h, w = Kn.shape
    out = np.zeros((Xn.shape[0] - h + 1, Xn.shape[1] - w + 1), dtype=np.result_type(Xn, Kn))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(Xn[i:i + h, j:j + w] * Kn)
    return torch.from_numpy(out)
'''],
        "after": ["X = torch.rand(6, 6)\nK = torch.rand(3, 3)\n%timeit -n 3 -r 1 corr2d(X, K)"],
    },
    "corr2d as a read-only numpy as_strided view of the windows, then einsum (the CS231n im2col trick)": {
        "answers": ['''
import numpy as np
from numpy.lib.stride_tricks import as_strided


def corr2d(X, K):
    x, k = X.numpy(), K.numpy()
    h, w = k.shape
    windows = as_strided(x, shape=(x.shape[0] - h + 1, x.shape[1] - w + 1, h, w), strides=x.strides * 2,
                         writeable=False)
    return torch.from_numpy(np.einsum("ijkl,kl->ij", windows, k.astype(np.result_type(x, k))))
'''],
    },
    "corr2d by einsum over windows stacked with list comprehensions": {
        "answers": ['''
def corr2d(X, K):
    h, w = K.shape
    rows, cols = X.shape[0] - h + 1, X.shape[1] - w + 1
    windows = torch.stack([torch.stack([X[i:i + h, j:j + w] for j in range(cols)]) for i in range(rows)])
    return torch.einsum("ijkl,kl->ij", windows, K.to(windows.dtype))
'''],
        "after": ['''
import scipy.signal
X, K = torch.randn(7, 5), torch.randn(3, 2)
print(torch.allclose(corr2d(X, K), torch.as_tensor(scipy.signal.correlate2d(X.numpy(), K.numpy(), "valid")),
                     atol=1e-5))
'''],
    },
    "first draft with F.conv2d, then corr2d by hand with im2col and a matrix product": {
        "before": ['''
import torch.nn.functional as F


def corr2d(X, K):   # first try: let torch do it (to compare with later)
    return F.conv2d(X[None, None], K[None, None])[0, 0]


corr2d(torch.ones(3, 3), torch.ones(2, 2))
'''],
        "answers": ['''
def corr2d(X, K):
    """Cross-correlation by hand: every window becomes a row, then one matrix-vector product."""
    h, w = K.shape
    out_h, out_w = X.shape[0] - h + 1, X.shape[1] - w + 1
    patches = []
    for i in range(out_h):
        for j in range(out_w):
            patches.append(X[i:i + h, j:j + w].reshape(-1))
    patches = torch.stack(patches)                      # (out_h * out_w, h * w)
    return (patches @ K.reshape(-1)).reshape(out_h, out_w)
'''],
        "after": ['''
X, K = torch.randn(6, 7), torch.randn(2, 3)
reference = torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]
assert torch.allclose(corr2d(X, K), reference, atol=1e-5)
print("matches F.conv2d")
'''],
    },
    "convolve2d with flipped indexing, torch.cat padding in a helper defined in a later cell": {
        "answers": ['''
def convolve2d(X, K, mode="valid"):
    k_h, k_w = K.shape
    flipped = K.flip(0).flip(1)                 # rotate the kernel by 180 degrees
    if mode == "full":
        X = zero_pad(X, k_h - 1, k_w - 1)
    elif mode != "valid":
        raise ValueError(mode)
    return corr2d(X, flipped)
'''],
        "after": ['''
def zero_pad(X, p_h, p_w):
    """X with p_h zero rows above and below and p_w zero columns left and right."""
    rows = torch.zeros((p_h, X.shape[1]), dtype=X.dtype)
    X = torch.cat([rows, X, rows], dim=0)
    cols = torch.zeros((X.shape[0], p_w), dtype=X.dtype)
    return torch.cat([cols, X, cols], dim=1)
''', '''
import scipy.signal
X, K = torch.randn(5, 6, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
print(torch.allclose(convolve2d(X, K, "full"), torch.from_numpy(scipy.signal.convolve2d(X.numpy(), K.numpy()))))
'''],
    },
    "convolve2d with F.pad and a rot90, tqdm loop and display in extra cells": {
        "answers": ['''
import torch.nn.functional as F


def convolve2d(X, K, mode="valid"):
    assert mode in ("valid", "full")
    K = torch.rot90(K, 2)
    if mode == "full":
        p_h, p_w = K.shape[0] - 1, K.shape[1] - 1
        X = F.pad(X, (p_w, p_w, p_h, p_h))
    return corr2d(X, K)
'''],
        "after": ['''
from tqdm import tqdm
for size in tqdm(range(3, 8)):
    convolve2d(torch.ones(size, size), torch.ones(2, 2), "full")
''', '''
from IPython.display import display, Markdown
display(Markdown(f"full output of a 3x3 image with a 2x2 kernel: `{tuple(convolve2d(torch.ones(3, 3), torch.ones(2, 2), 'full').shape)}`"))
'''],
    },
    "wide swap by numpy slicing [::-1, ::-1]": {
        "answers": ['''
import numpy as np


def swapped_wide_correlation(R):
    # corr(K, X)[i, j] = corr(X, K)[-1 - i, -1 - j]: the result turned by 180 degrees
    return torch.from_numpy(R.numpy()[::-1, ::-1].copy())
'''],
        "after": ["torch.zeros?", "!pip install numpy", "%pip list"],
    },
    "wide swap by a double loop with explicit indices": {
        "answers": ['''
def swapped_wide_correlation(R):
    H, W = R.shape
    S = torch.empty_like(R)
    for i in range(H):
        for j in range(W):
            S[i, j] = R[H - 1 - i, W - 1 - j]
    return S
'''],
        "after": ["import timeit\nprint(timeit.timeit(lambda: swapped_wide_correlation(torch.ones(4, 4)), number=10))"],
    },
    "corr2d that shows small results with Jupyter's display(), never imported": {
        "answers": ['''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    if Y.numel() < 4:
        display(Y)   # a look at small results while debugging
    return Y
'''],
    },
    "scratch cells left broken beside the answers (a syntax error, a NameError, an exception)": {
        "before": ["X = torch.tensor([[1.0, 2.0],\n", "print(undefined_name)", "raise ValueError('try again')",
                   "import scipy.signal as S\nS.correlate2d(X, K)"],
    },
}
