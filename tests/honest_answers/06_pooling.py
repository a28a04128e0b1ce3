"""Honest answers students write to exercise 6 (pooling and backpropagation): label -> variant."""

HONEST = {
    "pool2d by list comprehensions and torch.stack, for any leading axes": {
        "answers": ['''
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    m_h, m_w = X.shape[-2] - p_h + 1, X.shape[-1] - p_w + 1

    def reduce(window):
        return window.amax(dim=(-2, -1)) if mode == "max" else window.mean(dim=(-2, -1))

    rows = [torch.stack([reduce(X[..., i:i + p_h, j:j + p_w]) for j in range(m_w)], dim=-1) for i in range(m_h)]
    return torch.stack(rows, dim=-2)
'''],
        "after": ['''
import torch.nn as nn
X = torch.randn(2, 3, 5, 6)
print(torch.allclose(pool2d(X, (2, 3)), nn.MaxPool2d((2, 3), stride=1)(X)),
      torch.allclose(pool2d(X, (2, 3), "avg"), nn.AvgPool2d((2, 3), stride=1)(X), atol=1e-6))
'''],
    },
    "pool2d d2l style with flattened windows and max(dim=-1).values, printed": {
        "answers": ['''
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros(X.shape[:-2] + (X.shape[-2] - p_h + 1, X.shape[-1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[-2]):
        for j in range(Y.shape[-1]):
            window = X[..., i:i + p_h, j:j + p_w].reshape(*X.shape[:-2], p_h * p_w)
            if mode == "max":
                Y[..., i, j] = window.max(dim=-1).values
            elif mode == "avg":
                Y[..., i, j] = window.mean(dim=-1)
    return Y


X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
print(pool2d(X, (2, 2)))
print(pool2d(X, (2, 2), "avg"))
'''],
    },
    "pool2d with numpy inside the answer": {
        "answers": ['''
import numpy as np


def pool2d(X, pool_size, mode="max"):
    x = X.numpy()
    p_h, p_w = pool_size
    out = np.zeros(x.shape[:-2] + (x.shape[-2] - p_h + 1, x.shape[-1] - p_w + 1), dtype=x.dtype)
    for i in range(out.shape[-2]):
        for j in range(out.shape[-1]):
            window = x[..., i:i + p_h, j:j + p_w]
            out[..., i, j] = window.max(axis=(-2, -1)) if mode == "max" else window.mean(axis=(-2, -1))
    return torch.from_numpy(out)
'''],
        "after": ["!pip install numpy"],
    },
    "padded pooling with a torch.full canvas and strided nested loops": {
        "answers": ['''
def pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max"):
    as_pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
    k_h, k_w = as_pair(kernel_size)
    s_h, s_w = as_pair(kernel_size if stride is None else stride)
    p_h, p_w = as_pair(padding)
    h, w = X.shape
    fill = -float("inf") if mode == "max" else 0.0          # max never picks padding; avg counts it as zero
    P = torch.full((h + 2 * p_h, w + 2 * p_w), fill, dtype=X.dtype)
    P[p_h:p_h + h, p_w:p_w + w] = X
    m_h, m_w = (P.shape[0] - k_h) // s_h + 1, (P.shape[1] - k_w) // s_w + 1
    Y = torch.empty((m_h, m_w), dtype=X.dtype)
    for i in range(m_h):
        for j in range(m_w):
            window = P[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            Y[i, j] = window.max() if mode == "max" else window.sum() / (k_h * k_w)
    return Y
'''],
        "after": ['''
import torch.nn as nn
X = torch.randn(5, 6)
print(torch.allclose(pool2d_padded(X, 3, padding=1, stride=2), nn.MaxPool2d(3, 2, 1)(X[None])[0]))
print(torch.allclose(pool2d_padded(X, 3, padding=1, stride=2, mode="avg"), nn.AvgPool2d(3, 2, 1)(X[None])[0]))
'''],
    },
    "padded pooling with F.pad and all windows stacked, then one reduction": {
        "answers": ['''
def pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max"):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    if stride is None:
        stride = (k_h, k_w)
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf") if mode == "max" else 0.0)
    rows = range(0, X.shape[0] - k_h + 1, s_h)
    cols = range(0, X.shape[1] - k_w + 1, s_w)
    windows = torch.stack([X[i:i + k_h, j:j + k_w].flatten() for i in rows for j in cols])
    pooled = windows.max(dim=1).values if mode == "max" else windows.mean(dim=1)
    return pooled.reshape(len(rows), len(cols))
'''],
    },
    "max-pool backward through a CS231n-style layer class with forward and backward": {
        "answers": ['''
class MaxPool2D:
    """Max pooling written by hand: forward caches what backward needs."""

    def __init__(self, kernel_size, stride=None):
        self.k = kernel_size
        self.s = kernel_size if stride is None else stride
        self.cache = None

    def forward(self, X):
        k, s = self.k, self.s
        out = torch.zeros(((X.shape[0] - k) // s + 1, (X.shape[1] - k) // s + 1), dtype=X.dtype)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = X[i * s:i * s + k, j * s:j * s + k].max()
        self.cache = (X, out)
        return out

    def backward(self, dout):
        X, out = self.cache
        k, s = self.k, self.s
        dX = torch.zeros(X.shape, dtype=dout.dtype)
        for i in range(dout.shape[0]):
            for j in range(dout.shape[1]):
                mask = X[i * s:i * s + k, j * s:j * s + k] == out[i, j]   # where the maximum came from
                dX[i * s:i * s + k, j * s:j * s + k] += mask * dout[i, j]
        return dX


def max_pool2d_backward(X, G, kernel_size, stride=None):
    layer = MaxPool2D(kernel_size, stride)
    layer.forward(X)
    return layer.backward(G)
'''],
        "after": ['''
X = torch.randn(6, 7, requires_grad=True)
torch.nn.functional.max_pool2d(X[None], 3, stride=2).sum().backward()
print(torch.allclose(X.grad, max_pool2d_backward(X.detach(), torch.ones(2, 3), 3, stride=2)))
'''],
    },
    "max-pool backward with a flat argmax and numpy.unravel_index": {
        "answers": ['''
import numpy as np


def max_pool2d_backward(X, G, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    dX = torch.zeros(X.shape, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            window = X[i * s:i * s + k, j * s:j * s + k]
            a, b = np.unravel_index(int(window.argmax()), (k, k))
            dX[i * s + a, j * s + b] += G[i, j]
    return dX
'''],
    },
    "avg-pool backward tap by tap with strided slices": {
        "answers": ['''
def avg_pool2d_backward(input_shape, G, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    m_h, m_w = G.shape
    grad = torch.zeros(input_shape, dtype=G.dtype)
    share = G / (k * k)                      # every element of a window gets 1/k^2 of its gradient
    for a in range(k):
        for b in range(k):
            grad[a:a + s * (m_h - 1) + 1:s, b:b + s * (m_w - 1) + 1:s] += share
    return grad
'''],
    },
    "avg-pool backward through a layer class defined in an earlier cell, tqdm loop beside it": {
        "before": ['''
class AvgPool2D:
    def __init__(self, kernel_size, stride=None):
        self.k, self.s = kernel_size, kernel_size if stride is None else stride

    def forward(self, X):
        self.input_shape = X.shape
        k, s = self.k, self.s
        out = torch.zeros(((X.shape[0] - k) // s + 1, (X.shape[1] - k) // s + 1), dtype=X.dtype)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = X[i * s:i * s + k, j * s:j * s + k].mean()
        return out

    def backward(self, dout, input_shape=None):
        shape = self.input_shape if input_shape is None else input_shape
        k, s = self.k, self.s
        dX = torch.zeros(shape, dtype=dout.dtype)
        for i in range(dout.shape[0]):
            for j in range(dout.shape[1]):
                dX[i * s:i * s + k, j * s:j * s + k] += dout[i, j] * torch.ones(k, k, dtype=dout.dtype) / (k * k)
        return dX
''', '''
from tqdm import tqdm
for size in tqdm([4, 6, 8]):
    AvgPool2D(2).forward(torch.ones(size, size))
'''],
        "answers": ['''
def avg_pool2d_backward(input_shape, G, kernel_size, stride=None):
    return AvgPool2D(kernel_size, stride).backward(G, input_shape)
'''],
    },
    "convolution gradients by the chain rule in one double loop": {
        "answers": ['''
def corr2d_backward(X, K, G):
    """Y[i, j] = sum_ab X[i + a, j + b] K[a, b]: each output sends G[i, j] back to its window and its kernel."""
    k_h, k_w = K.shape
    grad_X = torch.zeros(X.shape, dtype=torch.result_type(G, K))
    grad_K = torch.zeros(K.shape, dtype=torch.result_type(X, G))
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad_X[i:i + k_h, j:j + k_w] += G[i, j] * K
            grad_K += G[i, j] * X[i:i + k_h, j:j + k_w]
    return grad_X, grad_K
'''],
        "after": ['''
X = torch.randn(6, 7, requires_grad=True)
K = torch.randn(2, 3, requires_grad=True)
G = torch.randn(5, 5)
(corr2d(X, K) * G).sum().backward()
gX, gK = corr2d_backward(X.detach(), K.detach(), G)
print(torch.allclose(gX, X.grad, atol=1e-5), torch.allclose(gK, K.grad, atol=1e-5))
'''],
    },
    "convolution gradients: kernel by einsum over stacked windows, input by a helper in a later cell": {
        "answers": ['''
def corr2d_backward(X, K, G):
    k_h, k_w = K.shape
    m_h, m_w = G.shape
    windows = torch.stack([torch.stack([X[a:a + m_h, b:b + m_w] for b in range(k_w)]) for a in range(k_h)])
    grad_K = torch.einsum("abij,ij->ab", windows, G)      # dL/dK[a, b] = sum_ij G[i, j] X[i + a, j + b]
    grad_X = full_correlation_with_flipped(G, K)           # dL/dX = G padded, correlated with K turned 180 degrees
    return grad_X, grad_K
'''],
        "after": ['''
def full_correlation_with_flipped(G, K):
    k_h, k_w = K.shape
    padded = F.pad(G, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(padded, K.flip(0).flip(1))
'''],
    },
    "delta through the activation by the chain rule in loops, torch.where for the ReLU": {
        "answers": ['''
def previous_delta(H, K, delta, activation="relu"):
    \"\"\"H_next[o, i, j] = b[o] + sum_{c,a,b} f(H)[c, i + a, j + b] K[o, c, a, b]: each output sends
    delta[o, i, j] back to the window it read, then f' switches it.\"\"\"
    c_o, c, k_h, k_w = K.shape
    dA = torch.zeros(H.shape, dtype=torch.float64)
    for o in range(c_o):
        for i in range(delta.shape[1]):
            for j in range(delta.shape[2]):
                dA[:, i:i + k_h, j:j + k_w] += delta[o, i, j] * K[o]
    if activation == "relu":
        return torch.where(H > 0, dA, torch.zeros_like(dA)).to(H.dtype)
    s = 1 / (1 + torch.exp(-H))
    return (dA * s * (1 - s)).to(H.dtype)
'''],
        "after": ['''
H = torch.randn(2, 5, 5, dtype=torch.float64, requires_grad=True)
K = torch.randn(3, 2, 2, 2, dtype=torch.float64)
delta = torch.randn(3, 4, 4, dtype=torch.float64)
for name, f in (("relu", torch.relu), ("sigmoid", torch.sigmoid)):
    H.grad = None
    (delta * F.conv2d(f(H)[None], K)[0]).sum().backward()
    print(name, torch.allclose(previous_delta(H.detach(), K, delta, name), H.grad))
'''],
    },
    "delta through CS231n-style activation classes, the full convolution by einsum over stacked windows": {
        "answers": ['''
class ReLU:
    def forward(self, H):
        self.H = H
        return H.clamp(min=0)

    def backward(self, dA):
        return dA * (self.H > 0)


class Sigmoid:
    def forward(self, H):
        self.out = 1 / (1 + (-H).exp())
        return self.out

    def backward(self, dA):
        return dA * self.out * (1 - self.out)


def full_correlation(delta, K):
    \"\"\"dL/dA[c] = sum_o full(delta[o], K[o, c]): pad by k - 1, read every window, contract with the flipped K.\"\"\"
    c_o, c, k_h, k_w = K.shape
    padded = F.pad(delta, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    h, w = padded.shape[1] - k_h + 1, padded.shape[2] - k_w + 1
    windows = torch.stack([torch.stack([padded[:, i:i + k_h, j:j + k_w] for j in range(w)]) for i in range(h)])
    return torch.einsum("ijoab,ocab->cij", windows, K.flip(2, 3))


def previous_delta(H, K, delta, activation="relu"):
    layer = ReLU() if activation == "relu" else Sigmoid()
    layer.forward(H)
    return layer.backward(full_correlation(delta, K))
'''],
    },
    "delta with numpy inside the answer and a dictionary of derivatives": {
        "answers": ['''
import numpy as np

DERIVATIVES = {
    "relu": lambda h: (h > 0).astype(h.dtype),
    "sigmoid": lambda h: np.exp(-h) / (1 + np.exp(-h)) ** 2,
}


def previous_delta(H, K, delta, activation="relu"):
    h, k, d = H.numpy(), K.numpy(), delta.numpy()
    c_o, c, k_h, k_w = k.shape
    grad = np.zeros(h.shape, dtype=np.result_type(h, k, d))
    for o in range(c_o):
        for ch in range(c):
            for a in range(k_h):
                for b in range(k_w):   # the tap K[o, ch, a, b] read A[ch, i + a, j + b] for every output (i, j)
                    grad[ch, a:a + d.shape[1], b:b + d.shape[2]] += k[o, ch, a, b] * d[o]
    return torch.from_numpy(DERIVATIVES[activation](h) * grad)
'''],
    },
    "strided gradients by the chain rule in one double loop": {
        "answers": ['''
def corr2d_strided_backward(X, K, G, stride):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    k_h, k_w = K.shape
    grad_X = torch.zeros_like(X, dtype=torch.result_type(G, K))   # unread rows and columns stay zero
    grad_K = torch.zeros_like(K, dtype=torch.result_type(X, G))
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            top, left = i * s_h, j * s_w
            grad_X[top:top + k_h, left:left + k_w] += G[i, j] * K
            grad_K += G[i, j] * X[top:top + k_h, left:left + k_w]
    return grad_X, grad_K
'''],
        "after": ['''
X = torch.randn(7, 8, requires_grad=True)
K = torch.randn(2, 3, requires_grad=True)
Y = F.conv2d(X[None, None], K[None, None], stride=(2, 3))[0, 0]
G = torch.randn_like(Y)
(G * Y).sum().backward()
gX, gK = corr2d_strided_backward(X.detach(), K.detach(), G, (2, 3))
print(torch.allclose(gX, X.grad, atol=1e-5), torch.allclose(gK, K.grad, atol=1e-5))
'''],
    },
    "strided gradients by dilating G with zeros, helpers in an earlier cell, the result padded with F.pad": {
        "before": ['''
def dilate(G, s_h, s_w):
    \"\"\"G with s - 1 zeros between neighbouring entries.\"\"\"
    out = torch.zeros(((G.shape[0] - 1) * s_h + 1, (G.shape[1] - 1) * s_w + 1), dtype=G.dtype)
    out[::s_h, ::s_w] = G
    return out


def full(G, K):
    k_h, k_w = K.shape
    return corr2d(F.pad(G, (k_w - 1, k_w - 1, k_h - 1, k_h - 1)), K.flip(0).flip(1))
'''],
        "answers": ['''
def corr2d_strided_backward(X, K, G, stride):
    if isinstance(stride, int):
        stride = (stride, stride)
    D = dilate(G, *stride)
    dX = full(D, K)
    dX = F.pad(dX, (0, X.shape[1] - dX.shape[1], 0, X.shape[0] - dX.shape[0]))   # rows no window read: zero
    dK = corr2d(X, D)[:K.shape[0], :K.shape[1]]
    return dX, dK
'''],
    },
    "strided gradients as index arithmetic with a generator of window corners and itertools.product": {
        "answers": ['''
import itertools


def corr2d_strided_backward(X, K, G, stride):
    s_h, s_w = stride if isinstance(stride, tuple) else (stride, stride)
    k_h, k_w = K.shape
    dK = torch.zeros(K.shape, dtype=X.dtype)
    for a, b in itertools.product(range(k_h), range(k_w)):
        # tap (a, b) read X[i s_h + a, j s_w + b] for every output (i, j)
        taps = X[a:a + s_h * (G.shape[0] - 1) + 1:s_h, b:b + s_w * (G.shape[1] - 1) + 1:s_w]
        dK[a, b] = (taps * G).sum()
    dX = torch.zeros(X.shape, dtype=X.dtype)
    for a, b in itertools.product(range(k_h), range(k_w)):
        dX[a:a + s_h * (G.shape[0] - 1) + 1:s_h, b:b + s_w * (G.shape[1] - 1) + 1:s_w] += K[a, b] * G
    return dX, dK
'''],
    },
}
