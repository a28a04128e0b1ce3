"""Wrong answers students write to exercise 1 (the mathematics of convolution): question -> {label: answer cell}."""

AFFECTS = {"corr2d": ["convolve2d"]}   # convolve2d is built on the student's corr2d

WRONG = {
    "convolve1d": {
        "kernel not flipped (cross-correlation)": '''
def convolve1d(x, w, mode="full"):
    n, k = len(x), len(w)
    padded = torch.cat([torch.zeros(k - 1, dtype=x.dtype), x, torch.zeros(k - 1, dtype=x.dtype)])
    y = torch.stack([(padded[t:t + k] * w).sum() for t in range(n + k - 1)])
    if mode == "valid":
        return y[k - 1:n]
    if mode == "same":
        return y[(k - 1) // 2:(k - 1) // 2 + n]
    return y
''',
        "full output one too long (n + k)": '''
def convolve1d(x, w, mode="full"):
    n, k = len(x), len(w)
    y = torch.zeros(n + k, dtype=torch.result_type(x, w))
    for lag in range(k):
        y[lag:lag + n] += w[lag] * x
    if mode == "valid":
        return y[k - 1:n]
    if mode == "same":
        return y[(k - 1) // 2:(k - 1) // 2 + n]
    return y
''',
        "same mode centred with k // 2 (wrong for even kernels)": '''
def convolve1d(x, w, mode="full"):
    n, k = len(x), len(w)
    y = torch.zeros(n + k - 1, dtype=torch.result_type(x, w))
    for lag in range(k):
        y[lag:lag + n] += w[lag] * x
    if mode == "valid":
        return y[k - 1:n]
    if mode == "same":
        return y[k // 2:k // 2 + n]
    return y
''',
        "valid mode one too short (n - k)": '''
def convolve1d(x, w, mode="full"):
    n, k = len(x), len(w)
    y = torch.zeros(n + k - 1, dtype=torch.result_type(x, w))
    for lag in range(k):
        y[lag:lag + n] += w[lag] * x
    if mode == "valid":
        return y[k:n]
    if mode == "same":
        return y[(k - 1) // 2:(k - 1) // 2 + n]
    return y
''',
        "float output for integer input": '''
def convolve1d(x, w, mode="full"):
    n, k = len(x), len(w)
    y = torch.zeros(n + k - 1)
    for lag in range(k):
        y[lag:lag + n] += w[lag] * x
    if mode == "valid":
        return y[k - 1:n]
    if mode == "same":
        return y[(k - 1) // 2:(k - 1) // 2 + n]
    return y
''',
    },
    "filters": {
        "central difference not flipped": '''
central_difference = torch.tensor([-0.5, 0.0, 0.5])
second_difference = torch.tensor([1.0, -2.0, 1.0])


def moving_average(k):
    return torch.full((k,), 1.0 / k)
''',
        "central difference not halved": '''
central_difference = torch.tensor([1.0, 0.0, -1.0])
second_difference = torch.tensor([1.0, -2.0, 1.0])


def moving_average(k):
    return torch.full((k,), 1.0 / k)
''',
        "second difference with the wrong sign": '''
central_difference = torch.tensor([0.5, 0.0, -0.5])
second_difference = torch.tensor([-1.0, 2.0, -1.0])


def moving_average(k):
    return torch.full((k,), 1.0 / k)
''',
        "weights copied from the public example (1/4)": '''
central_difference = torch.tensor([0.5, 0.0, -0.5])
second_difference = torch.tensor([1.0, -2.0, 1.0])


def moving_average(k):
    return torch.ones(k) / 4
''',
    },
    "output_shape": {
        "wide output n + k (off by one)": '''
def corr2d_output_shape(input_shape, kernel_shape, mode="valid"):
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_shape
    if mode == "same":
        return (n_h, n_w)
    if mode == "full":
        return (n_h + k_h, n_w + k_w)
    if k_h > n_h or k_w > n_w:
        raise ValueError("kernel too large")
    return (n_h - k_h + 1, n_w - k_w + 1)
''',
        "valid output n - k (off by one)": '''
def corr2d_output_shape(input_shape, kernel_shape, mode="valid"):
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_shape
    if mode == "same":
        return (n_h, n_w)
    if mode == "full":
        return (n_h + k_h - 1, n_w + k_w - 1)
    if k_h > n_h or k_w > n_w:
        raise ValueError("kernel too large")
    return (n_h - k_h, n_w - k_w)
''',
        "same mode shrinks like valid": '''
def corr2d_output_shape(input_shape, kernel_shape, mode="valid"):
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_shape
    if mode == "full":
        return (n_h + k_h - 1, n_w + k_w - 1)
    if k_h > n_h or k_w > n_w:
        raise ValueError("kernel too large")
    return (n_h - k_h + 1, n_w - k_w + 1)
''',
        "no error for a kernel larger than the input": '''
def corr2d_output_shape(input_shape, kernel_shape, mode="valid"):
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_shape
    if mode == "same":
        return (n_h, n_w)
    if mode == "full":
        return (n_h + k_h - 1, n_w + k_w - 1)
    return (n_h - k_h + 1, n_w - k_w + 1)
''',
    },
    "corr2d": {
        "kernel flipped (true convolution)": '''
def corr2d(X, K):
    h, w = K.shape
    K = torch.flip(K, dims=(0, 1))
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''',
        "output one too small (n - k)": '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h, X.shape[1] - w), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''',
        "float output for integer input": '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''',
        "square kernel assumed": '''
def corr2d(X, K):
    h = w = K.shape[0]
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''',
    },
    "convolve2d": {
        "kernel not flipped": '''
def convolve2d(X, K, mode="valid"):
    if mode == "full":
        k_h, k_w = K.shape
        X = torch.nn.functional.pad(X, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(X, K)
''',
        "flipped along the rows only": '''
def convolve2d(X, K, mode="valid"):
    if mode == "full":
        k_h, k_w = K.shape
        X = torch.nn.functional.pad(X, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(X, torch.flip(K, dims=(0,)))
''',
        "transposed instead of rotated": '''
def convolve2d(X, K, mode="valid"):
    if mode == "full":
        k_h, k_w = K.T.shape
        X = torch.nn.functional.pad(X, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(X, K.T)
''',
        "full mode pads k instead of k - 1": '''
def convolve2d(X, K, mode="valid"):
    if mode == "full":
        k_h, k_w = K.shape
        X = torch.nn.functional.pad(X, (k_w, k_w, k_h, k_h))
    return corr2d(X, torch.flip(K, dims=(0, 1)))
''',
    },
    "wide_swap": {
        "assumes it commutes": '''
def swapped_wide_correlation(R):
    return R
''',
        "transposes": '''
def swapped_wide_correlation(R):
    return R.T
''',
        "flips the rows only": '''
def swapped_wide_correlation(R):
    return torch.flip(R, dims=(0,))
''',
    },
}
