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
    "delta_recursion": {
        "the activation's derivative forgotten (dL/dA returned)": '''
def previous_delta(H, K, delta, activation="relu"):
    c_o, c, k_h, k_w = K.shape
    grad_A = torch.zeros(H.shape, dtype=torch.result_type(delta, K))
    for o in range(c_o):
        padded = F.pad(delta[o], (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
        for channel in range(c):
            grad_A[channel] += corr2d(padded, torch.flip(K[o, channel], dims=(0, 1)))
    return grad_A
''',
        "the sigmoid's derivative as h (1 - h), taken at H": '''
def previous_delta(H, K, delta, activation="relu"):
    c_o, c, k_h, k_w = K.shape
    grad_A = torch.zeros(H.shape, dtype=torch.result_type(delta, K))
    for o in range(c_o):
        padded = F.pad(delta[o], (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
        for channel in range(c):
            grad_A[channel] += corr2d(padded, torch.flip(K[o, channel], dims=(0, 1)))
    slope = (H > 0).to(grad_A.dtype) if activation == "relu" else H * (1 - H)
    return slope * grad_A
''',
        "the ReLU's switch read from the incoming gradient, not from H": '''
def previous_delta(H, K, delta, activation="relu"):
    c_o, c, k_h, k_w = K.shape
    grad_A = torch.zeros(H.shape, dtype=torch.result_type(delta, K))
    for o in range(c_o):
        padded = F.pad(delta[o], (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
        for channel in range(c):
            grad_A[channel] += corr2d(padded, torch.flip(K[o, channel], dims=(0, 1)))
    if activation == "relu":
        return (grad_A > 0).to(grad_A.dtype) * grad_A
    sigmoid = torch.sigmoid(H)
    return sigmoid * (1 - sigmoid) * grad_A
''',
        "the ReLU's slope taken as 1 at h = 0": '''
def previous_delta(H, K, delta, activation="relu"):
    c_o, c, k_h, k_w = K.shape
    grad_A = torch.zeros(H.shape, dtype=torch.result_type(delta, K))
    for o in range(c_o):
        padded = F.pad(delta[o], (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
        for channel in range(c):
            grad_A[channel] += corr2d(padded, torch.flip(K[o, channel], dims=(0, 1)))
    if activation == "relu":
        return (H >= 0).to(grad_A.dtype) * grad_A
    sigmoid = torch.sigmoid(H)
    return sigmoid * (1 - sigmoid) * grad_A
''',
        "the activation itself multiplied in, not its derivative": '''
def previous_delta(H, K, delta, activation="relu"):
    c_o, c, k_h, k_w = K.shape
    grad_A = torch.zeros(H.shape, dtype=torch.result_type(delta, K))
    for o in range(c_o):
        padded = F.pad(delta[o], (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
        for channel in range(c):
            grad_A[channel] += corr2d(padded, torch.flip(K[o, channel], dims=(0, 1)))
    return (torch.relu(H) if activation == "relu" else torch.sigmoid(H)) * grad_A
''',
        "the kernel not rotated in the full convolution": '''
def previous_delta(H, K, delta, activation="relu"):
    c_o, c, k_h, k_w = K.shape
    grad_A = torch.zeros(H.shape, dtype=torch.result_type(delta, K))
    for o in range(c_o):
        padded = F.pad(delta[o], (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
        for channel in range(c):
            grad_A[channel] += corr2d(padded, K[o, channel])
    if activation == "relu":
        return (H > 0).to(grad_A.dtype) * grad_A
    sigmoid = torch.sigmoid(H)
    return sigmoid * (1 - sigmoid) * grad_A
''',
    },
    "strided_conv_gradient": {
        "the stride ignored (question 5's stride-1 formulas)": '''
def corr2d_strided_backward(X, K, G, stride):
    k_h, k_w = K.shape
    grad_K = corr2d(X[:G.shape[0] + k_h - 1, :G.shape[1] + k_w - 1], G)
    padded = F.pad(G, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    grad_X = torch.zeros(X.shape, dtype=torch.result_type(G, K))
    full = corr2d(padded, torch.flip(K, dims=(0, 1)))
    grad_X[:full.shape[0], :full.shape[1]] = full
    return grad_X, grad_K
''',
        "windows sent back to (i, j) instead of (i s_h, j s_w)": '''
def corr2d_strided_backward(X, K, G, stride):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    k_h, k_w = K.shape
    grad_X = torch.zeros(X.shape, dtype=torch.result_type(G, K))
    grad_K = torch.zeros(K.shape, dtype=torch.result_type(X, G))
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad_X[i:i + k_h, j:j + k_w] += G[i, j] * K
            grad_K += G[i, j] * X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
    return grad_X, grad_K
''',
        "s zeros between the entries of G instead of s - 1": '''
def corr2d_strided_backward(X, K, G, stride):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    k_h, k_w = K.shape
    m_h, m_w = G.shape
    spread = torch.zeros(((s_h + 1) * (m_h - 1) + 1, (s_w + 1) * (m_w - 1) + 1), dtype=G.dtype)
    spread[::s_h + 1, ::s_w + 1] = G
    grad_K = corr2d(X, spread)[:k_h, :k_w]
    padded = F.pad(spread, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    full = corr2d(padded, torch.flip(K, dims=(0, 1)))[:X.shape[0], :X.shape[1]]
    grad_X = torch.zeros(X.shape, dtype=torch.result_type(G, K))
    grad_X[:full.shape[0], :full.shape[1]] = full
    return grad_X, grad_K
''',
        "rows and columns that no window reads left out (dL/dX too small)": '''
def corr2d_strided_backward(X, K, G, stride):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    k_h, k_w = K.shape
    m_h, m_w = G.shape
    spread = torch.zeros((s_h * (m_h - 1) + 1, s_w * (m_w - 1) + 1), dtype=G.dtype)
    spread[::s_h, ::s_w] = G
    grad_K = corr2d(X[:spread.shape[0] + k_h - 1, :spread.shape[1] + k_w - 1], spread)
    padded = F.pad(spread, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(padded, torch.flip(K, dims=(0, 1))), grad_K
''',
        "a stride pair read as (columns, rows)": '''
def corr2d_strided_backward(X, K, G, stride):
    s_w, s_h = (stride, stride) if isinstance(stride, int) else stride
    k_h, k_w = K.shape
    grad_X = torch.zeros(X.shape, dtype=torch.result_type(G, K))
    grad_K = torch.zeros(K.shape, dtype=torch.result_type(X, G))
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad_X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] += G[i, j] * K
            grad_K += G[i, j] * X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
    return grad_X, grad_K
''',
    },
}
