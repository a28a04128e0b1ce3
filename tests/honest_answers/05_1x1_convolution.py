"""Honest answers students write to exercise 5 (1x1 convolution, convolution as a matrix product): label -> variant."""

HONEST = {
    "1x1 convolution by einsum": {
        "answers": ['''
def conv1x1(X, K):
    # Y[o, h, w] = sum_c K[o, c] X[c, h, w]
    return torch.einsum("oc,chw->ohw", K[:, :, 0, 0], X)
'''],
        "after": ['''
import torch.nn.functional as F
X, K = torch.randn(3, 4, 5), torch.randn(6, 3, 1, 1)
assert torch.allclose(conv1x1(X, K), F.conv2d(X[None], K)[0], atol=1e-5)
'''],
    },
    "1x1 convolution with pixels as rows and the @ operator (seed forum style, prints)": {
        "answers": ['''
def conv1x1(X, K):
    c_i, h, w = X.shape       # input channels, height, width
    c_o = K.shape[0]          # output channels
    pixels = X.permute(1, 2, 0).reshape(h * w, c_i)     # one row per pixel
    Y = pixels @ K.reshape(c_o, c_i).T                  # a fully connected layer at every pixel
    return Y.T.reshape(c_o, h, w)


X = torch.normal(0, 1, (3, 3, 3))
K = torch.normal(0, 1, (2, 3, 1, 1))
print(conv1x1(X, K).shape)
'''],
    },
    "im2col with nested loops filling a preallocated matrix; F.unfold and as_strided checks in their own cells": {
        "answers": ['''
def im2col(X, kernel_size):
    k_h, k_w = kernel_size
    c_i, h, w = X.shape
    m_h, m_w = h - k_h + 1, w - k_w + 1
    cols = torch.zeros((c_i * k_h * k_w, m_h * m_w), dtype=X.dtype)
    for i in range(m_h):
        for j in range(m_w):
            cols[:, i * m_w + j] = X[:, i:i + k_h, j:j + k_w].reshape(-1)
    return cols
'''],
        "after": ['''
import torch.nn.functional as F
X = torch.arange(2 * 4 * 5.0).reshape(2, 4, 5)
print(torch.equal(im2col(X, (2, 3)), F.unfold(X[None], (2, 3))[0]))
''', '''
import numpy as np
from numpy.lib.stride_tricks import as_strided


def im2col_strided(x, k_h, k_w):
    """The same columns as a read-only strided view of the array (no copy until the reshape)."""
    c, h, w = x.shape
    s_c, s_h, s_w = x.strides
    view = as_strided(x, shape=(c, k_h, k_w, h - k_h + 1, w - k_w + 1),
                      strides=(s_c, s_h, s_w, s_h, s_w), writeable=False)
    return view.reshape(c * k_h * k_w, -1)


print(np.array_equal(im2col_strided(X.numpy(), 2, 3), im2col(X, (2, 3)).numpy()))
'''],
    },
    "im2col by advanced indexing with broadcast aranges": {
        "answers": ['''
def im2col(X, kernel_size):
    k_h, k_w = kernel_size
    c_i, h, w = X.shape
    m_h, m_w = h - k_h + 1, w - k_w + 1
    rows = torch.arange(k_h).reshape(k_h, 1, 1, 1) + torch.arange(m_h).reshape(1, 1, m_h, 1)
    cols = torch.arange(k_w).reshape(1, k_w, 1, 1) + torch.arange(m_w).reshape(1, 1, 1, m_w)
    patches = X[:, rows, cols]                          # (c_i, k_h, k_w, m_h, m_w)
    return patches.reshape(c_i * k_h * k_w, m_h * m_w)
'''],
    },
    "im2col in numpy inside the answer, converted back": {
        "answers": ['''
import numpy as np


def im2col(X, kernel_size):
    x = X.numpy()
    k_h, k_w = kernel_size
    c_i, h, w = x.shape
    columns = [x[:, i:i + k_h, j:j + k_w].ravel() for i in range(h - k_h + 1) for j in range(w - k_w + 1)]
    return torch.from_numpy(np.stack(columns, axis=1))
'''],
    },
    "conv as a matrix product on the student's im2col; checked against F.conv2d, timed, inspected": {
        "answers": ['''
def conv2d_matmul(X, K):
    """(c_o, c_i, k_h, k_w) kernels as rows times the im2col columns."""
    c_o, c_i, k_h, k_w = K.shape
    m_h = X.shape[1] - k_h + 1
    m_w = X.shape[2] - k_w + 1
    rows = K.reshape(c_o, c_i * k_h * k_w)
    return (rows @ im2col(X, (k_h, k_w))).view(c_o, m_h, m_w)
'''],
        "after": ['''
import torch.nn.functional as F
X = torch.randn(3, 7, 6)
K = torch.randn(5, 3, 3, 2)
Y1 = conv2d_matmul(X, K)
Y2 = F.conv2d(X.unsqueeze(0), K).squeeze(0)
print(float(torch.abs(Y1 - Y2).sum()))
assert torch.allclose(Y1, Y2, atol=1e-4)
''', "%timeit -n 3 -r 1 conv2d_matmul(X, K)", "torch.zeros?", "help(conv2d_matmul)"],
    },
    "conv as one einsum over windows stacked by list comprehension (no im2col)": {
        "answers": ['''
def conv2d_matmul(X, K):
    c_o, c_i, k_h, k_w = K.shape
    m_h, m_w = X.shape[1] - k_h + 1, X.shape[2] - k_w + 1
    windows = torch.stack([X[:, i:i + k_h, j:j + k_w] for i in range(m_h) for j in range(m_w)])
    return torch.einsum("pckl,ockl->op", windows, K).reshape(c_o, m_h, m_w)
'''],
    },
    "bottleneck cost with type hints, a nested helper and a markdown table": {
        "answers": ['''
from typing import Dict, Tuple


def bottleneck_cost(c: int, c_mid: int, n: int) -> Dict[str, Tuple[int, int]]:
    def layer(c_in: int, c_out: int, k: int) -> Tuple[int, int]:
        weights = c_out * c_in * k * k
        return weights + c_out, weights * n * n          # (parameters, multiply-adds)

    plain = layer(c, c, 3)
    parts = [layer(c, c_mid, 1), layer(c_mid, c_mid, 3), layer(c_mid, c, 1)]
    bottleneck = (sum(p for p, _ in parts), sum(m for _, m in parts))
    return {"plain": plain, "bottleneck": bottleneck}
'''],
        "after": ["#md: | design | parameters | multiply-adds |\n|---|---|---|\n| plain | $9c^2 + c$ | $9c^2n^2$ |",
                  "print(bottleneck_cost(256, 64, 56))"],
    },
    "rounding computed with numpy float32": {
        "answers": ['''
import numpy as np

why_they_differ = "b"


def float32_sums(big, small):
    big, small = np.float32(big), np.float32(small)
    dropped = float((big + small) - big)
    kept = float((big - big) + small)
    return dropped, kept


print(float32_sums(1e8, 1))
'''],
    },
    "rounding with one float32 tensor of both numbers, unpacked, and a table printed": {
        "answers": ['''
why_they_differ = "b"   # rounding depends on the order of the additions


def float32_sums(big, small):
    """(big + small) - big and (big - big) + small, every step rounded to float32."""
    b, s = torch.tensor([big, small]).to(torch.float32)
    return float((b + s) - b), float((b - b) + s)


for big, small in [(1e8, 1.0), (1e8, 5.0), (2.0 ** 24, 1.0)]:
    print(f"{big:>12g} {small:>4g} -> {float32_sums(big, small)}")
'''],
    },
}
