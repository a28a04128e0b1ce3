"""Wrong answers students write to exercise 4 (multiple input and output channels)."""

AFFECTS = {"multi_channel": ["conv_layer"], "cost_and_memory": ["doubling"]}   # built on those answers

WRONG = {
    "multi_channel": {
        "mean over the input channels instead of the sum": '''
def corr2d_multi_in_out(X, K):
    return torch.stack([sum(corr2d(x, k) for x, k in zip(X, kernel)) / len(X) for kernel in K])
''',
        "summed over the output kernels (wrong axis)": '''
def corr2d_multi_in_out(X, K):
    return torch.stack([sum(corr2d(X[c], K[o, c]) for o in range(K.shape[0])) for c in range(X.shape[0])])
''',
        "first input channel only": '''
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d(X[0], kernel[0]) for kernel in K])
''',
    },
    "conv_layer": {
        "bias added once per input channel": '''
def conv2d_layer(X, weight, bias):
    return torch.stack([corr2d_multi_in_out(x, weight) for x in X]) + X.shape[1] * bias.reshape(-1, 1, 1)
''',
        "bias broadcast along the last axis": '''
def conv2d_layer(X, weight, bias):
    Y = torch.stack([corr2d_multi_in_out(x, weight) for x in X])
    return Y + bias[:Y.shape[-1]]
''',
        "batch axis dropped (first example only)": '''
def conv2d_layer(X, weight, bias):
    return corr2d_multi_in_out(X[0], weight) + bias.reshape(-1, 1, 1)
''',
    },
    "cost_and_memory": {
        "parameters without the bias": '''
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    (p_h, p_w) = (padding, padding) if isinstance(padding, int) else padding
    (s_h, s_w) = (stride, stride) if isinstance(stride, int) else stride
    m_h, m_w = (h + 2 * p_h - k_h) // s_h + 1, (w + 2 * p_w - k_w) // s_w + 1
    products = c_o * m_h * m_w * c_i * k_h * k_w
    parameters = c_o * c_i * k_h * k_w
    memory = parameters + c_i * h * w + c_o * m_h * m_w
    return {"multiplications": products, "additions": products, "parameters": parameters,
            "forward_memory": memory, "backward_memory": 2 * memory}
''',
        "additions: one fewer than the products (bias forgotten)": '''
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    (p_h, p_w) = (padding, padding) if isinstance(padding, int) else padding
    (s_h, s_w) = (stride, stride) if isinstance(stride, int) else stride
    m_h, m_w = (h + 2 * p_h - k_h) // s_h + 1, (w + 2 * p_w - k_w) // s_w + 1
    products = c_o * m_h * m_w * c_i * k_h * k_w
    parameters = c_o * c_i * k_h * k_w + c_o
    memory = parameters + c_i * h * w + c_o * m_h * m_w
    return {"multiplications": products, "additions": products - c_o * m_h * m_w, "parameters": parameters,
            "forward_memory": memory, "backward_memory": 2 * memory}
''',
        "padding counted once per axis": '''
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    (p_h, p_w) = (padding, padding) if isinstance(padding, int) else padding
    (s_h, s_w) = (stride, stride) if isinstance(stride, int) else stride
    m_h, m_w = (h + p_h - k_h) // s_h + 1, (w + p_w - k_w) // s_w + 1
    products = c_o * m_h * m_w * c_i * k_h * k_w
    parameters = c_o * c_i * k_h * k_w + c_o
    memory = parameters + c_i * h * w + c_o * m_h * m_w
    return {"multiplications": products, "additions": products, "parameters": parameters,
            "forward_memory": memory, "backward_memory": 2 * memory}
''',
        "padded input counted in memory": '''
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    (p_h, p_w) = (padding, padding) if isinstance(padding, int) else padding
    (s_h, s_w) = (stride, stride) if isinstance(stride, int) else stride
    m_h, m_w = (h + 2 * p_h - k_h) // s_h + 1, (w + 2 * p_w - k_w) // s_w + 1
    products = c_o * m_h * m_w * c_i * k_h * k_w
    parameters = c_o * c_i * k_h * k_w + c_o
    memory = parameters + c_i * (h + 2 * p_h) * (w + 2 * p_w) + c_o * m_h * m_w
    return {"multiplications": products, "additions": products, "parameters": parameters,
            "forward_memory": memory, "backward_memory": 2 * memory}
''',
        "ceil instead of floor for the output size": '''
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    (p_h, p_w) = (padding, padding) if isinstance(padding, int) else padding
    (s_h, s_w) = (stride, stride) if isinstance(stride, int) else stride
    m_h, m_w = -(-(h + 2 * p_h - k_h) // s_h) + 1, -(-(w + 2 * p_w - k_w) // s_w) + 1
    products = c_o * m_h * m_w * c_i * k_h * k_w
    parameters = c_o * c_i * k_h * k_w + c_o
    memory = parameters + c_i * h * w + c_o * m_h * m_w
    return {"multiplications": products, "additions": products, "parameters": parameters,
            "forward_memory": memory, "backward_memory": 2 * memory}
''',
    },
    "doubling": {
        "channels double the work": '''
def doubling_factors(c, k, n, padding):
    def cost(channels, pad):
        counts = conv_cost(channels, channels, k, k, n, n, padding=pad)
        return counts["multiplications"], counts["forward_memory"]
    base = cost(c, padding)
    memory = cost(2 * c, padding)[1] / base[1]
    padded = cost(c, 2 * padding)
    return {"channels": (2.0, memory), "padding": (padded[0] / base[0], padded[1] / base[1])}
''',
        "padding assumed to double the work": '''
def doubling_factors(c, k, n, padding):
    def cost(channels, pad):
        counts = conv_cost(channels, channels, k, k, n, n, padding=pad)
        return counts["multiplications"], counts["forward_memory"]
    base = cost(c, padding)
    doubled, padded = cost(2 * c, padding), cost(c, 2 * padding)
    return {"channels": (doubled[0] / base[0], doubled[1] / base[1]), "padding": (2.0, padded[1] / base[1])}
''',
        "padding factor of one side only (not squared)": '''
def doubling_factors(c, k, n, padding):
    def cost(channels, pad):
        counts = conv_cost(channels, channels, k, k, n, n, padding=pad)
        return counts["multiplications"], counts["forward_memory"]
    base = cost(c, padding)
    doubled, padded = cost(2 * c, padding), cost(c, 2 * padding)
    side = n + 2 * padding - k + 1
    return {"channels": (doubled[0] / base[0], doubled[1] / base[1]),
            "padding": ((side + 2 * padding) / side, padded[1] / base[1])}
''',
        "memory assumed to grow like the multiplications": '''
def doubling_factors(c, k, n, padding):
    m, m_doubled = n + 2 * padding - k + 1, n + 4 * padding - k + 1
    return {"channels": (4.0, 4.0), "padding": ((m_doubled / m) ** 2, (m_doubled / m) ** 2)}
''',
        "the chapter's factors hard-coded": '''
def doubling_factors(c, k, n, padding):
    return {"channels": (4.0, 2.0), "padding": (1.0, 1.0)}
''',
        "memory that holds the padded input": '''
def doubling_factors(c, k, n, padding):
    def cost(channels, pad):
        m = n + 2 * pad - k + 1
        parameters = channels * channels * k * k + channels
        return channels * channels * k * k * m * m, parameters + channels * (n + 2 * pad) ** 2 + channels * m * m
    base = cost(c, padding)
    doubled, padded = cost(2 * c, padding), cost(c, 2 * padding)
    return {"channels": (doubled[0] / base[0], doubled[1] / base[1]),
            "padding": (padded[0] / base[0], padded[1] / base[1])}
''',
    },
}
