"""Wrong answers students write to exercise 5 (1x1 convolution, im2col)."""

AFFECTS = {"im2col": ["conv_matmul"]}   # conv2d_matmul is built on the student's im2col

WRONG = {
    "conv1x1": {
        "pixels laid out as rows of a reshape, not a view of the channels": '''
def conv1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return torch.matmul(X.reshape(h * w, c_i), K.reshape(c_o, c_i).T).reshape(c_o, h, w)
''',
        "kernel matrix transposed": '''
def conv1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return torch.matmul(K.reshape(c_i, c_o).T, X.reshape(c_i, h * w)).reshape(c_o, h, w)
''',
        "converted to float": '''
def conv1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return torch.matmul(K.reshape(c_o, c_i).float(), X.reshape(c_i, h * w).float()).reshape(c_o, h, w)
''',
    },
    "im2col": {
        "window read column by column": '''
def im2col(X, kernel_size):
    k_h, k_w = kernel_size
    c_i, h, w = X.shape
    m_h, m_w = h - k_h + 1, w - k_w + 1
    columns = [X[:, i:i + k_h, j:j + k_w].transpose(1, 2).reshape(-1) for i in range(m_h) for j in range(m_w)]
    return torch.stack(columns, dim=1)
''',
        "windows numbered column by column": '''
def im2col(X, kernel_size):
    k_h, k_w = kernel_size
    c_i, h, w = X.shape
    m_h, m_w = h - k_h + 1, w - k_w + 1
    columns = [X[:, i:i + k_h, j:j + k_w].reshape(-1) for j in range(m_w) for i in range(m_h)]
    return torch.stack(columns, dim=1)
''',
        "one window too few per axis (n - k)": '''
def im2col(X, kernel_size):
    k_h, k_w = kernel_size
    c_i, h, w = X.shape
    m_h, m_w = max(h - k_h, 1), max(w - k_w, 1)
    columns = [X[:, i:i + k_h, j:j + k_w].reshape(-1) for i in range(m_h) for j in range(m_w)]
    return torch.stack(columns, dim=1)
''',
    },
    "conv_matmul": {
        "kernel reshaped the wrong way round": '''
def conv2d_matmul(X, K):
    c_o, c_i, k_h, k_w = K.shape
    m_h, m_w = X.shape[1] - k_h + 1, X.shape[2] - k_w + 1
    return torch.matmul(K.reshape(-1, c_o).T, im2col(X, (k_h, k_w))).reshape(c_o, m_h, m_w)
''',
        "output reshaped (c_o, m_w, m_h)": '''
def conv2d_matmul(X, K):
    c_o, c_i, k_h, k_w = K.shape
    m_h, m_w = X.shape[1] - k_h + 1, X.shape[2] - k_w + 1
    return torch.matmul(K.reshape(c_o, -1), im2col(X, (k_h, k_w))).reshape(c_o, m_w, m_h).transpose(1, 2)
''',
    },
    "bottleneck": {
        "no biases": '''
def bottleneck_cost(c, c_mid, n):
    def conv(c_in, c_out, k):
        return c_out * c_in * k * k, c_out * c_in * k * k * n * n
    layers = [conv(c, c_mid, 1), conv(c_mid, c_mid, 3), conv(c_mid, c, 1)]
    return {"plain": conv(c, c, 3), "bottleneck": tuple(sum(part) for part in zip(*layers))}
''',
        "the 3x3 layers unpadded ((n - 2)^2 outputs)": '''
def bottleneck_cost(c, c_mid, n):
    def conv(c_in, c_out, k):
        m = n - k + 1
        return c_out * c_in * k * k + c_out, c_out * c_in * k * k * m * m
    layers = [conv(c, c_mid, 1), conv(c_mid, c_mid, 3), conv(c_mid, c, 1)]
    return {"plain": conv(c, c, 3), "bottleneck": tuple(sum(part) for part in zip(*layers))}
''',
        "the expanding 1x1 layer forgotten": '''
def bottleneck_cost(c, c_mid, n):
    def conv(c_in, c_out, k):
        return c_out * c_in * k * k + c_out, c_out * c_in * k * k * n * n
    layers = [conv(c, c_mid, 1), conv(c_mid, c_mid, 3)]
    return {"plain": conv(c, c, 3), "bottleneck": tuple(sum(part) for part in zip(*layers))}
''',
    },
    "rounding": {
        "blames the matrix product for skipping work": '''
why_they_differ = "a"


def float32_sums(big, small):
    big, small = torch.tensor(big, dtype=torch.float32), torch.tensor(small, dtype=torch.float32)
    return ((big + small) - big).item(), ((big - big) + small).item()
''',
        "computed in float64 (Python floats)": '''
why_they_differ = "b"


def float32_sums(big, small):
    return (big + small) - big, (big - big) + small
''',
        "the chapter's numbers hard-coded": '''
why_they_differ = "b"


def float32_sums(big, small):
    return 0.0, 1.0
''',
        "assumes exact arithmetic": '''
why_they_differ = "b"


def float32_sums(big, small):
    return float(small), float(small)
''',
        "summed in float64, only the result rounded to float32": '''
why_they_differ = "b"


def float32_sums(big, small):
    dropped = torch.tensor((big + small) - big, dtype=torch.float32)
    kept = torch.tensor((big - big) + small, dtype=torch.float32)
    return dropped.item(), kept.item()
''',
    },
}
