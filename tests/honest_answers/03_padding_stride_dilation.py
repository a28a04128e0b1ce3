"""Honest answers students write to exercise 3 (padding, stride and dilation): label -> variant."""

HONEST = {
    "output size with math.floor and an explicit fit check": {
        "answers": ['''
import math


def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    if isinstance(padding, int):
        before = after = padding
    else:
        before, after = padding
    effective = dilation * (k - 1) + 1          # the dilated kernel's extent
    total = n + before + after
    if effective > total:
        raise ValueError(f"kernel of extent {effective} does not fit in {total}")
    return math.floor((total - effective) / stride) + 1
'''],
        "after": ["print([conv_output_size(8, 3, padding=1, stride=s) for s in (1, 2, 3)])"],
    },
    "output size by counting window positions in a while loop, with the notebook's pair()": {
        "answers": ['''
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    before, after = pair(padding)
    extent = (k - 1) * dilation + 1
    count, start = 0, 0
    while start + extent <= n + before + after:   # slide the window until it would stick out
        count += 1
        start += stride
    if count == 0:
        raise ValueError("the kernel does not fit in the padded input")
    return count
'''],
    },
    "padding by hand with torch.cat for all three modes, strided nested loops": {
        "answers": ['''
def pad2d(X, p_h, p_w, mode="zeros"):
    """Pad rows by p_h and columns by p_w on each side, like nn.Conv2d's padding_mode."""
    if mode == "zeros":
        rows = torch.zeros((p_h, X.shape[1]), dtype=X.dtype)
        X = torch.cat([rows, X, rows], dim=0)
        cols = torch.zeros((X.shape[0], p_w), dtype=X.dtype)
        return torch.cat([cols, X, cols], dim=1)
    if mode == "replicate":
        X = torch.cat([X[:1].repeat(p_h, 1), X, X[-1:].repeat(p_h, 1)], dim=0)
        return torch.cat([X[:, :1].repeat(1, p_w), X, X[:, -1:].repeat(1, p_w)], dim=1)
    if mode == "circular":
        X = torch.cat([X[X.shape[0] - p_h:], X, X[:p_h]], dim=0)
        return torch.cat([X[:, X.shape[1] - p_w:], X, X[:, :p_w]], dim=1)
    raise ValueError(f"unknown padding_mode {mode!r}")


def corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros"):
    p_h, p_w = pair(padding)
    s_h, s_w = pair(stride)
    X = pad2d(X, p_h, p_w, padding_mode)
    k_h, k_w = K.shape
    out_h = (X.shape[0] - k_h) // s_h + 1
    out_w = (X.shape[1] - k_w) // s_w + 1
    Y = torch.zeros((out_h, out_w), dtype=torch.result_type(X, K))
    for i in range(out_h):
        for j in range(out_w):
            Y[i, j] = (X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] * K).sum()
    return Y
'''],
        "after": ['''
import torch.nn as nn
conv = nn.Conv2d(1, 1, (2, 3), padding=(1, 2), stride=(2, 1), padding_mode="circular", bias=False)
X = torch.randn(5, 6)
with torch.no_grad():
    print(torch.allclose(conv(X[None, None])[0, 0],
                         corr2d_padded(X, conv.weight[0, 0], (1, 2), (2, 1), "circular"), atol=1e-5))
'''],
    },
    "F.pad then an im2col matrix built by hand at strided positions, one matrix product": {
        "answers": ['''
def corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros"):
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    if padding_mode == "zeros":
        Xp = F.pad(X, (p_w, p_w, p_h, p_h))
    else:
        Xp = F.pad(X[None, None], (p_w, p_w, p_h, p_h), mode=padding_mode)[0, 0]
    k_h, k_w = K.shape
    rows = range(0, Xp.shape[0] - k_h + 1, s_h)
    cols = range(0, Xp.shape[1] - k_w + 1, s_w)
    patches = torch.stack([Xp[i:i + k_h, j:j + k_w].reshape(-1) for i in rows for j in cols])
    return (patches @ K.reshape(-1)).reshape(len(rows), len(cols))
'''],
        "after": ['''
X, K = torch.randn(7, 8), torch.randn(3, 3)
print((corr2d_padded(X, K, padding=1, stride=2)
       - F.conv2d(X[None, None], K[None, None], padding=1, stride=2)[0, 0]).abs().max())
'''],
    },
    "dilation as a sum of shifted slices, one per kernel tap": {
        "answers": ['''
def corr2d_dilated(X, K, dilation=1):
    d_h, d_w = pair(dilation)
    k_h, k_w = K.shape
    m_h = X.shape[0] - d_h * (k_h - 1)
    m_w = X.shape[1] - d_w * (k_w - 1)
    Y = torch.zeros((m_h, m_w), dtype=torch.result_type(X, K))
    for a in range(k_h):
        for b in range(k_w):
            Y += K[a, b] * X[a * d_h:a * d_h + m_h, b * d_w:b * d_w + m_w]
    return Y
'''],
    },
    "dilation by strided window slicing in nested loops, printed": {
        "answers": ['''
def corr2d_dilated(X, K, dilation=1):
    if isinstance(dilation, int):
        dilation = (dilation, dilation)
    d_h, d_w = dilation
    k_h, k_w = K.shape
    span_h, span_w = (k_h - 1) * d_h + 1, (k_w - 1) * d_w + 1
    Y = torch.zeros((X.shape[0] - span_h + 1, X.shape[1] - span_w + 1), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + span_h:d_h, j:j + span_w:d_w]   # every d-th pixel of the spread-out window
            Y[i, j] = (window * K).sum()
    return Y


print(corr2d_dilated(torch.arange(25.0).reshape(5, 5), torch.tensor([[1.0, -1.0]]), dilation=2))
'''],
    },
    "groups with type hints, a check against nn.Conv2d, pip cells": {
        "before": ["!pip list | head -3", "%pip list"],
        "answers": ['''
def conv2d_parameter_count(in_channels: int, out_channels: int, kernel_size, groups: int = 1,
                           bias: bool = True) -> int:
    """Learned numbers of nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)."""
    if in_channels % groups != 0 or out_channels % groups != 0:
        raise ValueError("in_channels and out_channels must be divisible by groups")
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    per_group = (out_channels // groups) * (in_channels // groups) * k_h * k_w
    return groups * per_group + (out_channels if bias else 0)
'''],
        "after": ['''
import torch.nn as nn
layer = nn.Conv2d(32, 64, (1, 5), groups=32, bias=False)
assert conv2d_parameter_count(32, 64, (1, 5), 32, False) == sum(p.numel() for p in layer.parameters())
'''],
    },
    "transposed convolution scattered tap by tap with strided slices": {
        "answers": ['''
def conv_transpose2d(X, K, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    n_h, n_w = X.shape
    k_h, k_w = K.shape
    H, W = (n_h - 1) * s_h + k_h, (n_w - 1) * s_w + k_w
    Y = torch.zeros((H, W), dtype=torch.result_type(X, K))
    for a in range(k_h):
        for b in range(k_w):
            # kernel tap (a, b) of input (i, j) lands on (i * s_h + a, j * s_w + b)
            Y[a:a + (n_h - 1) * s_h + 1:s_h, b:b + (n_w - 1) * s_w + 1:s_w] += K[a, b] * X
    return Y[p_h:H - p_h, p_w:W - p_w]
'''],
    },
    "first draft with F.conv_transpose2d, then zeros inserted, padded and correlated with the flipped kernel": {
        "before": ['''
def conv_transpose2d(X, K, stride=1, padding=0):   # draft: torch's own, to see what to expect
    return F.conv_transpose2d(X[None, None].float(), K[None, None].float(), stride=stride, padding=padding)[0, 0]
'''],
        "answers": ['''
def conv_transpose2d(X, K, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    n_h, n_w = X.shape
    k_h, k_w = K.shape
    dtype = torch.result_type(X, K)
    Z = torch.zeros(((n_h - 1) * s_h + 1, (n_w - 1) * s_w + 1), dtype=dtype)
    Z[::s_h, ::s_w] = X                                      # stride - 1 zeros between inputs
    Z = F.pad(Z, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))      # then a full correlation
    Y = corr2d(Z, torch.flip(K, dims=(0, 1)).to(dtype))
    return Y[p_h:Y.shape[0] - p_h, p_w:Y.shape[1] - p_w]
'''],
        "after": ['''
X, K = torch.randn(3, 4), torch.randn(2, 3)
print(torch.allclose(conv_transpose2d(X, K, stride=2, padding=1),
                     F.conv_transpose2d(X[None, None], K[None, None], stride=2, padding=1)[0, 0], atol=1e-5))
'''],
    },
    "output padding found by trying each candidate": {
        "answers": ['''
def output_padding_for(n, k, s, p):
    m = (n + 2 * p - k) // s + 1                 # what the strided convolution gives
    for o in range(s):                           # output_padding must be smaller than the stride
        if (m - 1) * s - 2 * p + k + o == n:
            return o
    raise ValueError("no output_padding works")
'''],
        "after": ['''
import torch.nn as nn
for n in (7, 8):
    m = (n + 2 - 3) // 2 + 1
    up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=output_padding_for(n, 3, 2, 1))
    print(n, up(torch.zeros(1, 1, m, m)).shape[-1])
'''],
    },
}
