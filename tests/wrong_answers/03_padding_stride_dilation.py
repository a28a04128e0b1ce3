"""Wrong answers students write to exercise 3 (padding, stride and dilation)."""

WRONG = {
    "output_size": {
        "padding counted once (total, not per side)": '''
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    before, after = pair(padding)
    span = n + max(before, after) - dilation * (k - 1) - 1
    if span < 0:
        raise ValueError("does not fit")
    return span // stride + 1
''',
        "ceil instead of floor": '''
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    before, after = pair(padding)
    span = n + before + after - dilation * (k - 1) - 1
    if span < 0:
        raise ValueError("does not fit")
    return -(-span // stride) + 1
''',
        "dilation forgotten": '''
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    before, after = pair(padding)
    span = n + before + after - k
    if span < 0:
        raise ValueError("does not fit")
    return span // stride + 1
''',
        "dilated kernel of size d * k": '''
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    before, after = pair(padding)
    span = n + before + after - dilation * k
    if span < 0:
        raise ValueError("does not fit")
    return span // stride + 1
''',
        "the public formula with symmetric padding only": '''
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    p = padding if isinstance(padding, int) else padding[0]
    span = n + 2 * p - dilation * (k - 1) - 1
    if span < 0:
        raise ValueError("does not fit")
    return span // stride + 1
''',
    },
    "padded_strided": {
        "pads one side only": '''
def corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros"):
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    mode = "constant" if padding_mode == "zeros" else padding_mode
    X = F.pad(X[None], (0, 2 * p_w, 0, 2 * p_h), mode=mode)[0]
    return corr2d(X, K)[::s_h, ::s_w]
''',
        "row stride used for the columns too": '''
def corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros"):
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    mode = "constant" if padding_mode == "zeros" else padding_mode
    X = F.pad(X[None], (p_w, p_w, p_h, p_h), mode=mode)[0]
    return corr2d(X, K)[::s_h, ::s_h]
''',
        "padding_mode ignored (always zeros)": '''
def corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros"):
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return corr2d(X, K)[::s_h, ::s_w]
''',
        "pair read as (columns, rows)": '''
def corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros"):
    (p_w, p_h), (s_h, s_w) = pair(padding), pair(stride)
    mode = "constant" if padding_mode == "zeros" else padding_mode
    X = F.pad(X[None], (p_w, p_w, p_h, p_h), mode=mode)[0]
    return corr2d(X, K)[::s_h, ::s_w]
''',
    },
    "dilation": {
        "d zeros between taps instead of d - 1": '''
def corr2d_dilated(X, K, dilation=1):
    d_h, d_w = pair(dilation)
    k_h, k_w = K.shape
    spread = torch.zeros(((k_h - 1) * (d_h + 1) + 1, (k_w - 1) * (d_w + 1) + 1), dtype=K.dtype)
    spread[::d_h + 1, ::d_w + 1] = K
    return corr2d(X, spread)
''',
        "rows dilated only": '''
def corr2d_dilated(X, K, dilation=1):
    d_h, d_w = pair(dilation)
    k_h, k_w = K.shape
    spread = torch.zeros(((k_h - 1) * d_h + 1, k_w), dtype=K.dtype)
    spread[::d_h, :] = K
    return corr2d(X, spread)
''',
        "pair read as (columns, rows)": '''
def corr2d_dilated(X, K, dilation=1):
    d_w, d_h = pair(dilation)
    k_h, k_w = K.shape
    spread = torch.zeros(((k_h - 1) * d_h + 1, (k_w - 1) * d_w + 1), dtype=K.dtype)
    spread[::d_h, ::d_w] = K
    return corr2d(X, spread)
''',
    },
    "groups": {
        "groups ignored": '''
def conv2d_parameter_count(in_channels, out_channels, kernel_size, groups=1, bias=True):
    if in_channels % groups or out_channels % groups:
        raise ValueError("groups must divide both")
    k_h, k_w = pair(kernel_size)
    return out_channels * in_channels * k_h * k_w + (out_channels if bias else 0)
''',
        "both channel counts divided by groups": '''
def conv2d_parameter_count(in_channels, out_channels, kernel_size, groups=1, bias=True):
    if in_channels % groups or out_channels % groups:
        raise ValueError("groups must divide both")
    k_h, k_w = pair(kernel_size)
    return (out_channels // groups) * (in_channels // groups) * k_h * k_w + (out_channels if bias else 0)
''',
        "one bias per group": '''
def conv2d_parameter_count(in_channels, out_channels, kernel_size, groups=1, bias=True):
    if in_channels % groups or out_channels % groups:
        raise ValueError("groups must divide both")
    k_h, k_w = pair(kernel_size)
    return out_channels * (in_channels // groups) * k_h * k_w + (groups if bias else 0)
''',
        "no check that groups divides the channels": '''
def conv2d_parameter_count(in_channels, out_channels, kernel_size, groups=1, bias=True):
    k_h, k_w = pair(kernel_size)
    return out_channels * (in_channels // groups) * k_h * k_w + (out_channels if bias else 0)
''',
    },
    "transposed": {
        "padding not removed": '''
def conv_transpose2d(X, K, stride=1, padding=0):
    (s_h, s_w) = pair(stride)
    (n_h, n_w), (k_h, k_w) = X.shape, K.shape
    Y = torch.zeros(((n_h - 1) * s_h + k_h, (n_w - 1) * s_w + k_w), dtype=torch.result_type(X, K))
    for i in range(n_h):
        for j in range(n_w):
            Y[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] += X[i, j] * K
    return Y
''',
        "padding removed from one side only": '''
def conv_transpose2d(X, K, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    (n_h, n_w), (k_h, k_w) = X.shape, K.shape
    Y = torch.zeros(((n_h - 1) * s_h + k_h, (n_w - 1) * s_w + k_w), dtype=torch.result_type(X, K))
    for i in range(n_h):
        for j in range(n_w):
            Y[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] += X[i, j] * K
    return Y[2 * p_h:, 2 * p_w:]
''',
        "overlaps overwritten instead of added": '''
def conv_transpose2d(X, K, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    (n_h, n_w), (k_h, k_w) = X.shape, K.shape
    Y = torch.zeros(((n_h - 1) * s_h + k_h, (n_w - 1) * s_w + k_w), dtype=torch.result_type(X, K))
    for i in range(n_h):
        for j in range(n_w):
            Y[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] = X[i, j] * K
    return Y[p_h:Y.shape[0] - p_h, p_w:Y.shape[1] - p_w]
''',
        "kernel flipped": '''
def conv_transpose2d(X, K, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    (n_h, n_w), (k_h, k_w) = X.shape, K.shape
    K = torch.flip(K, dims=(0, 1))
    Y = torch.zeros(((n_h - 1) * s_h + k_h, (n_w - 1) * s_w + k_w), dtype=torch.result_type(X, K))
    for i in range(n_h):
        for j in range(n_w):
            Y[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] += X[i, j] * K
    return Y[p_h:Y.shape[0] - p_h, p_w:Y.shape[1] - p_w]
''',
    },
    "transposed_size": {
        "n mod s (kernel and padding ignored)": '''
def output_padding_for(n, k, s, p):
    return n % s
''',
        "padding ignored": '''
def output_padding_for(n, k, s, p):
    return (n - k) % s
''',
        "one whenever the stride is above 1": '''
def output_padding_for(n, k, s, p):
    return int(s > 1 and n % 2 == 0)
''',
    },
}
