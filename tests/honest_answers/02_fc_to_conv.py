"""Honest answers students write to exercise 2 (from fully connected layers to convolutions): label -> variant."""

HONEST = {
    "parameter counts with type hints, asserts and a markdown note": {
        "answers": ['''
def fc_parameter_count(h: int, w: int, h_out: int, w_out: int) -> int:
    """One weight per (input pixel, hidden value) pair, one bias per hidden value."""
    assert min(h, w, h_out, w_out) > 0, "sizes must be positive"
    inputs, outputs = h * w, h_out * w_out
    return inputs * outputs + outputs


def conv_parameter_count(delta: int) -> int:
    """A (2 delta + 1) x (2 delta + 1) window of shared weights and one bias."""
    assert delta >= 0
    side = 2 * delta + 1
    return side * side + 1
'''],
        "after": ["#md: A megapixel image to a megapixel hidden layer needs $10^{12}$ weights; a 3x3 convolution, 10.",
                  "print(f'{fc_parameter_count(1000, 1000, 1000, 1000):,}', conv_parameter_count(1))"],
    },
    "conv_as_matrix by nested loops with flat index arithmetic": {
        "answers": ['''
def conv_as_matrix(K, input_shape):
    n_h, n_w = input_shape
    k_h, k_w = K.shape
    out_h, out_w = n_h - k_h + 1, n_w - k_w + 1
    W = torch.zeros(out_h * out_w, n_h * n_w, dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            row = i * out_w + j                      # which output
            for a in range(k_h):
                for b in range(k_w):
                    W[row, (i + a) * n_w + (j + b)] = K[a, b]   # which input pixel it weights
    return W
'''],
        "after": ['''
X = torch.randn(4, 5)
K = torch.randn(2, 3)
W = conv_as_matrix(K, X.shape)
print(torch.allclose(W @ X.reshape(-1), corr2d(X, K).reshape(-1), atol=1e-5))
''', "%timeit -n 2 -r 1 conv_as_matrix(torch.ones(3, 3), (10, 10))"],
    },
    "conv_as_matrix from the responses to one-hot images, stacked as columns": {
        "answers": ['''
def conv_as_matrix(K, input_shape):
    # column p of W is the output for an image that is 1 at pixel p and 0 elsewhere
    n_h, n_w = input_shape
    columns = []
    for p in range(n_h * n_w):
        e = torch.zeros(n_h * n_w, dtype=K.dtype)
        e[p] = 1
        columns.append(corr2d(e.reshape(n_h, n_w), K).reshape(-1))
    return torch.stack(columns, dim=1)
'''],
    },
    "conv_as_matrix built in numpy and converted back": {
        "answers": ['''
import numpy as np


def conv_as_matrix(K, input_shape):
    k = K.numpy()
    n_h, n_w = input_shape
    k_h, k_w = k.shape
    out_h, out_w = n_h - k_h + 1, n_w - k_w + 1
    W = np.zeros((out_h * out_w, n_h, n_w), dtype=k.dtype)
    for r in range(out_h * out_w):
        i, j = divmod(r, out_w)
        W[r, i:i + k_h, j:j + k_w] = k
    return torch.from_numpy(W.reshape(out_h * out_w, n_h * n_w))
'''],
    },
    "diagonal kernel 3x3 with corners, checked with F.conv2d in its own cell": {
        "answers": ['''
diagonal_kernel = torch.tensor([[1.0, 0.0, -1.0],
                                [0.0, 0.0, 0.0],
                                [-1.0, 0.0, 1.0]])   # every row and every column sums to zero
'''],
        "after": ['''
import torch.nn.functional as F
X = torch.triu(torch.ones(8, 8))          # a diagonal edge
print(F.conv2d(X[None, None], diagonal_kernel[None, None])[0, 0])
'''],
    },
    "receptive field by recursion from the first layer": {
        "answers": ['''
def receptive_field(layers):
    """Side of the input window seen by one unit of the last layer."""
    if not layers:
        return 1                                 # no layer: a unit is one pixel
    kernel_size, stride = layers[0]
    # a window of r units of the layers above covers (r - 1) * stride + kernel_size pixels of this one's input
    return (receptive_field(layers[1:]) - 1) * stride + kernel_size
'''],
        "after": ["import inspect\nprint(inspect.signature(receptive_field))", "help(receptive_field)"],
    },
    "receptive field with functools.reduce over the reversed stack": {
        "answers": ['''
from functools import reduce


def receptive_field(layers):
    return reduce(lambda r, layer: (r - 1) * layer[1] + layer[0], reversed(list(layers)), 1)
'''],
    },
    "compose kernels with four nested loops": {
        "answers": ['''
def compose_kernels(K1, K2):
    a_h, a_w = K1.shape
    b_h, b_w = K2.shape
    K = torch.zeros(a_h + b_h - 1, a_w + b_w - 1, dtype=torch.result_type(K1, K2))
    for i in range(b_h):
        for j in range(b_w):
            for a in range(a_h):
                for b in range(a_w):
                    K[i + a, j + b] += K2[i, j] * K1[a, b]
    return K
'''],
        "after": ['''
X = torch.randn(8, 10)
K1, K2 = torch.randn(2, 2), torch.randn(1, 3)
print(torch.allclose(corr2d(corr2d(X, K1), K2), corr2d(X, compose_kernels(K1, K2)), atol=1e-5))
'''],
    },
    "compose kernels as a full convolution, with a helper in an earlier cell": {
        "before": ['''
import torch.nn.functional as F


def full_convolution(A, B):
    """Wide convolution of A with B: correlate the zero-padded A with B turned by 180 degrees."""
    b_h, b_w = B.shape
    padded = F.pad(A, (b_w - 1, b_w - 1, b_h - 1, b_h - 1))
    return corr2d(padded, torch.flip(B, dims=(0, 1)))
'''],
        "answers": ['''
def compose_kernels(K1, K2):
    # corr(corr(X, K1), K2)[p] = sum_q sum_r X[p + q + r] K1[r] K2[q]  ->  K[s] = sum_q K1[s - q] K2[q]
    return full_convolution(K1, K2)
'''],
    },
    "learn kernel the d2l way: nn.Conv2d, summed squared error, manual SGD step": {
        "answers": ['''
def learn_kernel(X, Y, kernel_shape):
    conv2d = nn.Conv2d(1, 1, kernel_size=kernel_shape, bias=False)
    nn.init.zeros_(conv2d.weight)
    X = X.reshape((1, 1) + X.shape)
    Y = Y.reshape((1, 1) + Y.shape)
    lr = 1e-2
    for i in range(300):
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        l.sum().backward()
        conv2d.weight.data[:] -= lr * conv2d.weight.grad
        if (i + 1) % 100 == 0:
            print(f"epoch {i + 1}, loss {l.sum():.4f}")
    return conv2d.weight.data.reshape(kernel_shape)
'''],
    },
    "learn kernel with a Conv2D module class and torch.optim.SGD": {
        "answers": ['''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(kernel_size))

    def forward(self, x):
        return torch.nn.functional.conv2d(x[None, None], self.weight[None, None])[0, 0]


def learn_kernel(X, Y, kernel_shape):
    model = Conv2D(kernel_shape)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for step in range(300):
        optimizer.zero_grad()
        loss = ((model(X) - Y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return model.weight.detach()
'''],
    },
}
