"""Wrong answers students write to exercise 2 (from fully connected layers to convolutions)."""

WRONG = {
    "parameter_counts": {
        "no biases": '''
def fc_parameter_count(h, w, h_out, w_out):
    return h * w * h_out * w_out


def conv_parameter_count(delta):
    return (2 * delta + 1) ** 2
''',
        "window of side delta + 1": '''
def fc_parameter_count(h, w, h_out, w_out):
    return h * w * h_out * w_out + h_out * w_out


def conv_parameter_count(delta):
    return (delta + 1) ** 2 + 1
''',
        "one bias per input pixel": '''
def fc_parameter_count(h, w, h_out, w_out):
    return h * w * h_out * w_out + h * w


def conv_parameter_count(delta):
    return (2 * delta + 1) ** 2 + 1
''',
    },
    "conv_as_matrix": {
        "the transpose (inputs by outputs)": '''
def conv_as_matrix(K, input_shape):
    (n_h, n_w), (k_h, k_w) = input_shape, K.shape
    out_h, out_w = n_h - k_h + 1, n_w - k_w + 1
    W = torch.zeros((out_h * out_w, n_h * n_w), dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            W[i * out_w + j].view(n_h, n_w)[i:i + k_h, j:j + k_w] = K
    return W.T
''',
        "kernel flipped into the rows": '''
def conv_as_matrix(K, input_shape):
    (n_h, n_w), (k_h, k_w) = input_shape, K.shape
    out_h, out_w = n_h - k_h + 1, n_w - k_w + 1
    W = torch.zeros((out_h * out_w, n_h * n_w), dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            W[i * out_w + j].view(n_h, n_w)[i:i + k_h, j:j + k_w] = torch.flip(K, dims=(0, 1))
    return W
''',
        "outputs numbered column by column": '''
def conv_as_matrix(K, input_shape):
    (n_h, n_w), (k_h, k_w) = input_shape, K.shape
    out_h, out_w = n_h - k_h + 1, n_w - k_w + 1
    W = torch.zeros((out_h * out_w, n_h * n_w), dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            W[j * out_h + i].view(n_h, n_w)[i:i + k_h, j:j + k_w] = K
    return W
''',
    },
    "diagonal_kernel": {
        "the vertical-edge kernel": '''
diagonal_kernel = torch.tensor([[1.0, -1.0]])
''',
        "a diagonal difference": '''
diagonal_kernel = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
''',
        "the identity": '''
diagonal_kernel = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
''',
    },
    "receptive_field": {
        "strides ignored": '''
def receptive_field(layers):
    return 1 + sum(k - 1 for k, s in layers)
''',
        "kernel sizes added up": '''
def receptive_field(layers):
    return max(1, sum(k for k, s in layers))
''',
        "each layer's own stride applied to its kernel": '''
def receptive_field(layers):
    size, jump = 1, 1
    for k, s in layers:
        jump *= s
        size += (k - 1) * jump
    return size
''',
    },
    "stacked_kernels": {
        "second kernel flipped (cross-correlation of the kernels)": '''
def compose_kernels(K1, K2):
    (a_h, a_w), (b_h, b_w) = K1.shape, K2.shape
    K = torch.zeros((a_h + b_h - 1, a_w + b_w - 1), dtype=torch.result_type(K1, K2))
    for i in range(b_h):
        for j in range(b_w):
            K[i:i + a_h, j:j + a_w] += K2[b_h - 1 - i, b_w - 1 - j] * K1
    return K
''',
        "size k1 + k2 (off by one)": '''
def compose_kernels(K1, K2):
    (a_h, a_w), (b_h, b_w) = K1.shape, K2.shape
    K = torch.zeros((a_h + b_h, a_w + b_w), dtype=torch.result_type(K1, K2))
    for i in range(b_h):
        for j in range(b_w):
            K[i:i + a_h, j:j + a_w] += K2[i, j] * K1
    return K
''',
        "overwrites overlapping entries": '''
def compose_kernels(K1, K2):
    (a_h, a_w), (b_h, b_w) = K1.shape, K2.shape
    K = torch.zeros((a_h + b_h - 1, a_w + b_w - 1), dtype=torch.result_type(K1, K2))
    for i in range(b_h):
        for j in range(b_w):
            K[i:i + a_h, j:j + a_w] = K2[i, j] * K1
    return K
''',
    },
    "learn_kernel": {
        "never steps the optimizer": '''
def learn_kernel(X, Y, kernel_shape, steps=300, lr=0.1):
    K = torch.zeros(kernel_shape, requires_grad=True)
    optimizer = torch.optim.Adam([K], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0] - Y) ** 2).mean()
        loss.backward()
    return K.detach()
''',
        "fits a true convolution (kernel comes out flipped)": '''
def learn_kernel(X, Y, kernel_shape, steps=300, lr=0.1):
    K = torch.zeros(kernel_shape, requires_grad=True)
    optimizer = torch.optim.Adam([K], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        flipped = torch.flip(K, dims=(0, 1))
        loss = ((torch.nn.functional.conv2d(X[None, None], flipped[None, None])[0, 0] - Y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return K.detach()
''',
        "far too few steps": '''
def learn_kernel(X, Y, kernel_shape, steps=5, lr=0.1):
    K = torch.zeros(kernel_shape, requires_grad=True)
    optimizer = torch.optim.Adam([K], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0] - Y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return K.detach()
''',
    },
}
