"""Wrong answers students write to exercise 6 (pooling and backpropagation)."""

WRONG = {
    "pool2d": {
        "one maximum over all channels of a window": '''
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros((*X.shape[:-2], X.shape[-2] - p_h + 1, X.shape[-1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[-2]):
        for j in range(Y.shape[-1]):
            window = X[..., i:i + p_h, j:j + p_w]
            Y[..., i, j] = window.max() if mode == "max" else window.mean()
    return Y
''',
        "channels summed, as a convolution would": '''
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    if X.dim() > 2:
        X = X.sum(dim=-3)
    Y = torch.zeros((*X.shape[:-2], X.shape[-2] - p_h + 1, X.shape[-1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[-2]):
        for j in range(Y.shape[-1]):
            window = X[..., i:i + p_h, j:j + p_w]
            Y[..., i, j] = window.amax(dim=(-2, -1)) if mode == "max" else window.mean(dim=(-2, -1))
    return Y
''',
        "average pooling returns the sum": '''
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros((*X.shape[:-2], X.shape[-2] - p_h + 1, X.shape[-1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[-2]):
        for j in range(Y.shape[-1]):
            window = X[..., i:i + p_h, j:j + p_w]
            Y[..., i, j] = window.amax(dim=(-2, -1)) if mode == "max" else window.sum(dim=(-2, -1))
    return Y
''',
        "window size read as (columns, rows)": '''
def pool2d(X, pool_size, mode="max"):
    p_w, p_h = pool_size
    Y = torch.zeros((*X.shape[:-2], X.shape[-2] - p_h + 1, X.shape[-1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[-2]):
        for j in range(Y.shape[-1]):
            window = X[..., i:i + p_h, j:j + p_w]
            Y[..., i, j] = window.amax(dim=(-2, -1)) if mode == "max" else window.mean(dim=(-2, -1))
    return Y
''',
    },
    "padding_stride": {
        "max pooling pads with zeros": '''
def pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max"):
    def pair(value):
        return (value, value) if isinstance(value, int) else tuple(value)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    m_h, m_w = (X.shape[0] - k_h) // s_h + 1, (X.shape[1] - k_w) // s_w + 1
    Y = torch.zeros((m_h, m_w), dtype=X.dtype)
    for i in range(m_h):
        for j in range(m_w):
            window = X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
''',
        "average excludes the padding from its divisor": '''
def pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max"):
    def pair(value):
        return (value, value) if isinstance(value, int) else tuple(value)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    real = F.pad(torch.ones_like(X), (p_w, p_w, p_h, p_h))
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf") if mode == "max" else 0.0)
    m_h, m_w = (X.shape[0] - k_h) // s_h + 1, (X.shape[1] - k_w) // s_w + 1
    Y = torch.zeros((m_h, m_w), dtype=X.dtype)
    for i in range(m_h):
        for j in range(m_w):
            rows, cols = slice(i * s_h, i * s_h + k_h), slice(j * s_w, j * s_w + k_w)
            Y[i, j] = X[rows, cols].max() if mode == "max" else X[rows, cols].sum() / real[rows, cols].sum()
    return Y
''',
        "stride defaults to 1": '''
def pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max"):
    def pair(value):
        return (value, value) if isinstance(value, int) else tuple(value)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(1 if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf") if mode == "max" else 0.0)
    m_h, m_w = (X.shape[0] - k_h) // s_h + 1, (X.shape[1] - k_w) // s_w + 1
    Y = torch.zeros((m_h, m_w), dtype=X.dtype)
    for i in range(m_h):
        for j in range(m_w):
            window = X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
''',
        "ceil mode (partial windows kept)": '''
def pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max"):
    def pair(value):
        return (value, value) if isinstance(value, int) else tuple(value)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf") if mode == "max" else 0.0)
    m_h, m_w = -(-(X.shape[0] - k_h) // s_h) + 1, -(-(X.shape[1] - k_w) // s_w) + 1
    Y = torch.zeros((m_h, m_w), dtype=X.dtype)
    for i in range(m_h):
        for j in range(m_w):
            window = X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
''',
    },
    "max_pool_backward": {
        "gradient to every element of the window": '''
def max_pool2d_backward(X, G, kernel_size, stride=None):
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros_like(X, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad[i * s:i * s + k, j * s:j * s + k] += G[i, j]
    return grad
''',
        "gradient shared out like average pooling": '''
def max_pool2d_backward(X, G, kernel_size, stride=None):
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros_like(X, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad[i * s:i * s + k, j * s:j * s + k] += G[i, j] / (k * k)
    return grad
''',
        "overlapping windows overwrite each other": '''
def max_pool2d_backward(X, G, kernel_size, stride=None):
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros_like(X, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            a, b = divmod(int(X[i * s:i * s + k, j * s:j * s + k].argmax()), k)
            grad[i * s + a, j * s + b] = G[i, j]
    return grad
''',
        "arg-max position not offset by the window's corner": '''
def max_pool2d_backward(X, G, kernel_size, stride=None):
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros_like(X, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            a, b = divmod(int(X[i * s:i * s + k, j * s:j * s + k].argmax()), k)
            grad[i + a, j + b] += G[i, j]
    return grad
''',
    },
    "avg_pool_backward": {
        "not divided by the window size": '''
def avg_pool2d_backward(input_shape, G, kernel_size, stride=None):
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros(input_shape, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad[i * s:i * s + k, j * s:j * s + k] += G[i, j]
    return grad
''',
        "overlapping windows overwrite each other": '''
def avg_pool2d_backward(input_shape, G, kernel_size, stride=None):
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros(input_shape, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad[i * s:i * s + k, j * s:j * s + k] = G[i, j] / (k * k)
    return grad
''',
        "everything to the window's corner": '''
def avg_pool2d_backward(input_shape, G, kernel_size, stride=None):
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros(input_shape, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad[i * s, j * s] += G[i, j]
    return grad
''',
    },
    "conv_gradient": {
        "kernel not rotated for dL/dX": '''
def corr2d_backward(X, K, G):
    k_h, k_w = K.shape
    padded = F.pad(G, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(padded, K), corr2d(X, G)
''',
        "G padded by k instead of k - 1": '''
def corr2d_backward(X, K, G):
    k_h, k_w = K.shape
    padded = F.pad(G, (k_w, k_w, k_h, k_h))
    return corr2d(padded, torch.flip(K, dims=(0, 1)))[:X.shape[0], :X.shape[1]], corr2d(X, G)
''',
        "dL/dK with G rotated": '''
def corr2d_backward(X, K, G):
    k_h, k_w = K.shape
    padded = F.pad(G, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(padded, torch.flip(K, dims=(0, 1))), corr2d(X, torch.flip(G, dims=(0, 1)))
''',
        "the two gradients returned in the wrong order": '''
def corr2d_backward(X, K, G):
    k_h, k_w = K.shape
    padded = F.pad(G, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(X, G), corr2d(padded, torch.flip(K, dims=(0, 1)))
''',
    },
}
