"""Honest answers students write to exercise 4 (multiple input and output channels): label -> variant."""

HONEST = {
    "d2l style: corr2d_multi_in in an earlier cell, torch.stack over output channels": {
        "before": ['''
def corr2d_multi_in(X, K):
    # iterate over the channel axis of X and K, then add the results up
    return sum(corr2d(x, k) for x, k in zip(X, K))
'''],
        "answers": ['''
def corr2d_multi_in_out(X, K):
    # iterate over the output axis of K; each k is a 3D kernel for all input channels
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)
'''],
        "after": ['''
X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
K = torch.stack((K, K + 1, K + 2), 0)
print(K.shape)
print(corr2d_multi_in_out(X, K))
'''],
    },
    "multi-channel by einsum over stacked windows": {
        "answers": ['''
def corr2d_multi_in_out(X, K):
    c_o, c_i, k_h, k_w = K.shape
    m_h, m_w = X.shape[1] - k_h + 1, X.shape[2] - k_w + 1
    windows = torch.stack([torch.stack([X[:, i:i + k_h, j:j + k_w] for j in range(m_w)], dim=1)
                           for i in range(m_h)], dim=1)           # (c_i, m_h, m_w, k_h, k_w)
    return torch.einsum("cijkl,ockl->oij", windows, K)
'''],
        "after": ['''
import torch.nn.functional as F
X, K = torch.randn(3, 5, 6), torch.randn(4, 3, 2, 3)
print(torch.allclose(corr2d_multi_in_out(X, K), F.conv2d(X[None], K)[0], atol=1e-5))
'''],
    },
    "multi-channel with numpy inside, four nested loops": {
        "answers": ['''
import numpy as np


def corr2d_multi_in_out(X, K):
    x, k = X.numpy(), K.numpy()
    c_o, c_i, k_h, k_w = k.shape
    out = np.zeros((c_o, x.shape[1] - k_h + 1, x.shape[2] - k_w + 1), dtype=x.dtype)
    for o in range(c_o):
        for c in range(c_i):
            for i in range(out.shape[1]):
                for j in range(out.shape[2]):
                    out[o, i, j] += np.sum(x[c, i:i + k_h, j:j + k_w] * k[o, c])
    return torch.from_numpy(out)
'''],
    },
    "conv layer as nested list comprehensions with the bias added per channel": {
        "answers": ['''
def conv2d_layer(X, weight, bias):
    c_o, c_i = weight.shape[0], weight.shape[1]
    return torch.stack([
        torch.stack([sum(corr2d(x[c], weight[o, c]) for c in range(c_i)) + bias[o] for o in range(c_o)])
        for x in X
    ])
'''],
        "after": ['''
import torch.nn as nn
layer = nn.Conv2d(2, 3, (2, 2))
X = torch.randn(4, 2, 5, 5)
with torch.no_grad():
    print((layer(X) - conv2d_layer(X, layer.weight, layer.bias)).abs().max())
'''],
    },
    "conv layer by im2col on the whole batch and one batched matrix product": {
        "answers": ['''
def conv2d_layer(X, weight, bias):
    N, c_i, h, w = X.shape
    c_o, _, k_h, k_w = weight.shape
    m_h, m_w = h - k_h + 1, w - k_w + 1
    # columns[n, :, p] = the window of example n whose top-left corner is pixel p
    columns = torch.stack([X[:, :, i:i + k_h, j:j + k_w].reshape(N, -1)
                           for i in range(m_h) for j in range(m_w)], dim=2)
    out = torch.matmul(weight.reshape(c_o, -1), columns)          # (N, c_o, m_h * m_w)
    return out.reshape(N, c_o, m_h, m_w) + bias[None, :, None, None]
'''],
    },
    "conv layer through a CS231n-style class with forward and backward": {
        "answers": ['''
class ConvLayer:
    """A convolution layer written by hand: forward caches its input, backward returns the gradients."""

    def __init__(self, weight, bias):
        self.weight, self.bias = weight, bias
        self.cache = None

    def forward(self, X):
        self.cache = X
        return torch.stack([corr2d_multi_in_out(x, self.weight) for x in X]) + self.bias.reshape(1, -1, 1, 1)

    def backward(self, dout):
        db = dout.sum(dim=(0, 2, 3))
        return db


def conv2d_layer(X, weight, bias):
    return ConvLayer(weight, bias).forward(X)
'''],
    },
    "conv cost with a helper out_size defined in a later cell (cells run out of order)": {
        "answers": ['''
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    m_h, m_w = out_size(h, k_h, p_h, s_h), out_size(w, k_w, p_w, s_w)
    products_per_output = c_i * k_h * k_w
    outputs = c_o * m_h * m_w
    mults = outputs * products_per_output
    # (c_i k_h k_w - 1) additions to sum the products, plus one for the bias
    adds = outputs * (products_per_output - 1 + 1)
    params = c_o * c_i * k_h * k_w + c_o
    fwd = params + c_i * h * w + outputs
    return {"multiplications": mults, "additions": adds, "parameters": params,
            "forward_memory": fwd, "backward_memory": 2 * fwd}
'''],
        "after": ['''
def out_size(n, k, p, s):
    return (n + 2 * p - k) // s + 1
''', "print(conv_cost(3, 64, 3, 3, 224, 224, padding=1))"],
    },
    "conv cost with a dataclass and asdict": {
        "answers": ['''
from dataclasses import dataclass, asdict


@dataclass
class Cost:
    multiplications: int
    additions: int
    parameters: int
    forward_memory: int
    backward_memory: int


def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    if isinstance(padding, int):
        padding = (padding, padding)
    if isinstance(stride, int):
        stride = (stride, stride)
    m_h = (h + 2 * padding[0] - k_h) // stride[0] + 1
    m_w = (w + 2 * padding[1] - k_w) // stride[1] + 1
    n = c_o * m_h * m_w * c_i * k_h * k_w
    parameters = c_o * (c_i * k_h * k_w + 1)
    memory = parameters + c_i * h * w + c_o * m_h * m_w
    return asdict(Cost(n, n, parameters, memory, 2 * memory))
'''],
    },
    "doubling factors from the formulas, with a markdown derivation": {
        "before": ["#md: Multiplications = $c^2 k^2 m^2$ with $m = n + 2p - k + 1$; forward memory = $c^2 k^2 + c$ "
                   "(parameters) $+ c n^2$ (input) $+ c m^2$ (output)."],
        "answers": ['''
def doubling_factors(c, k, n, padding):
    def multiplications(c, m):
        return c * c * k * k * m * m

    def memory(c, m):
        return c * c * k * k + c + c * n * n + c * m * m

    m = n + 2 * padding - k + 1
    m_doubled = n + 4 * padding - k + 1
    return {
        "channels": (multiplications(2 * c, m) / multiplications(c, m), memory(2 * c, m) / memory(c, m)),
        "padding": (multiplications(c, m_doubled) / multiplications(c, m), memory(c, m_doubled) / memory(c, m)),
    }
'''],
        "after": ["from IPython.display import display, Markdown\ndisplay(Markdown(str(doubling_factors(16, 3, 32, 1))))"],
    },
    "doubling factors from the student's conv_cost, exact fractions, a loop over the two changes": {
        "answers": ['''
from fractions import Fraction


def doubling_factors(c, k, n, padding):
    keys = ("multiplications", "forward_memory")
    before = conv_cost(c, c, k, k, n, n, padding=padding)
    changes = {"channels": dict(c_i=2 * c, c_o=2 * c, padding=padding), "padding": dict(c_i=c, c_o=c, padding=2 * padding)}
    factors = {}
    for name, change in changes.items():
        after = conv_cost(k_h=k, k_w=k, h=n, w=n, **change)
        factors[name] = tuple(float(Fraction(after[key], before[key])) for key in keys)
    return factors
'''],
    },
}
