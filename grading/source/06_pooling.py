# %% [markdown]
# # Exercises: pooling, and gradients through a convolution
#
# These exercises go with [chapter 6, *Pooling*](../chapters/06_pooling.ipynb). Each question ends with a check
# cell: run it for immediate feedback from the public tests. Your notebook is graded later with more (hidden) tests, so make your functions
# correct in general, not just on the examples shown.
#
# Write each operation yourself: inside your answers do not call torch's pooling, convolution or `unfold`
# functions, autograd (in questions 3 to 7) or the book's helpers (`book.conv`, `book.pool`, `book.shapes`,
# `book.cost`). The grader detects those calls and the test fails. `torch.nn.functional.pad` is allowed.


# %% [markdown]
# STARTER allowed

# %%
import torch
import torch.nn.functional as F


# STARTER corr2d


# %% [raw]
# # BEGIN QUESTION
# name: pool2d
# points: 2

# %% [markdown]
# ## 1. Maximum and average pooling
#
# Write `pool2d(X, pool_size, mode="max")` for `X` of shape $(\ldots, h, w)$ (a matrix, or with channel and
# batch axes in front) and `pool_size` $(p_h, p_w)$: each output element is the maximum (`mode="max"`) or the mean
# (`mode="avg"`) of a $p_h \times p_w$ window, moving one step at a time, without padding, each channel of each
# example on its own, as `nn.MaxPool2d` and `nn.AvgPool2d` do.

# %% [raw]
# # BEGIN SOLUTION

# %%
def pool2d(X, pool_size, mode="max"):
    # BEGIN SOLUTION
    p_h, p_w = pool_size
    Y = torch.zeros((*X.shape[:-2], X.shape[-2] - p_h + 1, X.shape[-1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[-2]):
        for j in range(Y.shape[-1]):
            window = X[..., i:i + p_h, j:j + p_w]
            Y[..., i, j] = window.amax(dim=(-2, -1)) if mode == "max" else window.mean(dim=(-2, -1))
    return Y
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_textbook_example(pool2d):
    import torch
    from grading.checks import check, no_library
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    with no_library():
        check(pool2d(X, (2, 2)), [[4.0, 5.0], [7.0, 8.0]])
        check(pool2d(X, (2, 2), "avg"), [[2.0, 3.0], [5.0, 6.0]])


# %%
# HIDDEN
def test_rectangular_windows(pool2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(42.0).reshape(6, 7).sin()
    with no_library():
        check(pool2d(X, (2, 3)))
        check(pool2d(X, (3, 1), "avg"))
        check(pool2d(-X, (1, 4), "max"))
        check(pool2d(X, (6, 7)))                         # window as large as the input


# %%
# HIDDEN
def test_channels_and_batches(pool2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5).cos()
    with no_library():
        check(pool2d(X[0], (2, 2)))
        check(pool2d(X, (3, 2), "avg"))
        check(pool2d(torch.arange(60).reshape(3, 4, 5) % 7, (2, 3)))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: padding_stride
# points: 3

# %% [markdown]
# ## 2. Pooling with padding and stride
#
# Write `pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max")` with the conventions of
# `torch.nn.MaxPool2d`/`AvgPool2d`: `kernel_size`, `stride` and `padding` are ints or pairs; `stride` defaults to
# `kernel_size`; max pooling never picks a padded cell (pad with $-\infty$); average pooling counts the zero
# padding in its divisor (`count_include_pad=True`). Windows that do not fit are dropped (floor mode).

# %% [raw]
# # BEGIN SOLUTION

# %%
def pool2d_padded(X, kernel_size, stride=None, padding=0, mode="max"):
    # BEGIN SOLUTION
    def pair(value):
        return (value, value) if isinstance(value, int) else tuple(value)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    fill = float("-inf") if mode == "max" else 0.0
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=fill)
    m_h, m_w = (X.shape[0] - k_h) // s_h + 1, (X.shape[1] - k_w) // s_w + 1
    Y = torch.zeros((m_h, m_w), dtype=X.dtype)
    for i in range(m_h):
        for j in range(m_w):
            window = X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_textbook_examples(pool2d_padded):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(16.0).reshape(4, 4)
    with no_library():
        check(pool2d_padded(X, 3), [[10.0]])
        check(pool2d_padded(X, 3, padding=1, stride=2), [[5.0, 7.0], [13.0, 15.0]])
        check(pool2d_padded(X, (2, 3), stride=(2, 3), padding=(0, 1)), [[5.0, 7.0], [13.0, 15.0]])


# %%
# HIDDEN
def test_average_counts_the_padding(pool2d_padded):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(30.0).reshape(5, 6).cos()
    with no_library():
        check(pool2d_padded(X, 3, padding=1, stride=2, mode="avg"))
        check(pool2d_padded(X, (2, 3), stride=(1, 2), padding=(1, 1), mode="avg"))


# %%
# HIDDEN
def test_max_ignores_the_padding(pool2d_padded):
    import torch
    from grading.checks import check, no_library
    X = -torch.arange(1.0, 31.0).reshape(5, 6)
    with no_library():
        check(pool2d_padded(X, 3, padding=1, stride=2))
        check(pool2d_padded(X, (3, 2), stride=(2, 3), padding=(1, 0)))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: max_pool_backward
# points: 3

# %% [markdown]
# ## 3. Backpropagation through max pooling
#
# Let $Y$ = max pooling of a matrix `X` with a square window of side `kernel_size` and a `stride` (default: the
# window size), no padding, and let `G` $= \partial L / \partial Y$. Write `max_pool2d_backward(X, G, kernel_size,
# stride=None)` returning $\partial L / \partial X$ (same shape as `X`) without autograd. You may assume that no
# window holds its maximum twice.

# %% [raw]
# # BEGIN SOLUTION

# %%
def max_pool2d_backward(X, G, kernel_size, stride=None):
    # BEGIN SOLUTION
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros_like(X, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            window = X[i * s:i * s + k, j * s:j * s + k]
            a, b = divmod(int(window.argmax()), k)
            grad[i * s + a, j * s + b] += G[i, j]   # overlapping windows can pick the same element
    return grad
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_two_by_two(max_pool2d_backward):
    import torch
    from grading.checks import check, no_library
    X = torch.tensor([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 6.0], [7.0, 0.5, 1.5, 2.5], [0.25, 6.5, 9.0, 3.5]])
    with no_library(autograd=True):
        grad = max_pool2d_backward(X, torch.tensor([[1.0, 2.0], [3.0, 4.0]]), 2)
    check(grad, [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 4.0, 0.0]])


# %%
# HIDDEN
def test_overlapping_windows(max_pool2d_backward):
    import torch
    from grading.checks import check, no_library
    X = (torch.arange(42.0) * 7 % 43).reshape(6, 7)     # distinct values, maxima not in one corner
    G3 = torch.arange(1.0, 13.0).reshape(3, 4).cos()
    with no_library(autograd=True):
        check(max_pool2d_backward(X, torch.arange(1.0, 21.0).reshape(4, 5), 3, stride=1))
        check(max_pool2d_backward(X, torch.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]), 3, stride=2))
        check(max_pool2d_backward(X[:, :6], torch.tensor([[2.0, -1.0], [0.25, 3.0]]), 3))
        check(max_pool2d_backward(X[:5, :6], G3[:2, :3], 2, stride=2))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: avg_pool_backward
# points: 2

# %% [markdown]
# ## 4. Backpropagation through average pooling
#
# Same set-up with average pooling: write `avg_pool2d_backward(input_shape, G, kernel_size, stride=None)`
# returning $\partial L / \partial X$ for an input of shape `input_shape` (it does not depend on the values of `X`).

# %% [raw]
# # BEGIN SOLUTION

# %%
def avg_pool2d_backward(input_shape, G, kernel_size, stride=None):
    # BEGIN SOLUTION
    k, s = kernel_size, kernel_size if stride is None else stride
    grad = torch.zeros(input_shape, dtype=G.dtype)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            grad[i * s:i * s + k, j * s:j * s + k] += G[i, j] / (k * k)
    return grad
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_spread_evenly(avg_pool2d_backward):
    import torch
    from grading.checks import check, no_library
    with no_library(autograd=True):
        grad = avg_pool2d_backward((2, 4), torch.tensor([[4.0, 8.0]]), 2)
    check(grad, [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]])


# %%
# HIDDEN
def test_overlaps_and_leftovers(avg_pool2d_backward):
    import torch
    from grading.checks import check, no_library
    with no_library(autograd=True):
        check(avg_pool2d_backward((5, 6), torch.arange(1.0, 13.0).reshape(3, 4).sin(), 3, stride=1))
        check(avg_pool2d_backward((7, 7), torch.tensor([[1.0, -2.0], [3.0, 0.5]]), 3))
        check(avg_pool2d_backward((6, 6), torch.arange(4.0).reshape(2, 2), 4, stride=2))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: conv_gradient
# points: 3

# %% [markdown]
# ## 5. The gradient of a convolution layer
#
# Let $Y = $ `corr2d(X, K)` and let $G = \partial L / \partial Y$ come from the layers above. Write
# `corr2d_backward(X, K, G)` returning the pair $(\partial L/\partial X,\ \partial L/\partial K)$ without autograd,
# each the shape of what it is the gradient of. Derive both from how each element of `X` and of `K` contributes to
# the elements of $Y$; each turns out to be a cross-correlation you can compute with `corr2d`.
#
# Check your answer against autograd in a cell of your own.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_backward(X, K, G):
    # BEGIN SOLUTION
    k_h, k_w = K.shape
    grad_K = corr2d(X, G)
    padded = F.pad(G, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    grad_X = corr2d(padded, torch.flip(K, dims=(0, 1)))
    return grad_X, grad_K
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_ones_from_above(corr2d_backward):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    with no_library(autograd=True):
        grad_X, grad_K = corr2d_backward(X, K, torch.ones((2, 2)))
    check(grad_K, [[8.0, 12.0], [20.0, 24.0]])
    check(grad_X, [[0.0, 1.0, 1.0], [2.0, 6.0, 4.0], [2.0, 5.0, 3.0]])


# %%
# HIDDEN
def test_rectangular_layer(corr2d_backward):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(42.0).reshape(6, 7).sin()
    K = torch.tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
    G = torch.arange(25.0).reshape(5, 5).cos()
    with no_library(autograd=True):
        grad_X, grad_K = corr2d_backward(X, K, G)
    check(grad_X)
    check(grad_K)


# %%
# HIDDEN
def test_integers_and_a_kernel_as_large_as_the_input(corr2d_backward):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(12).reshape(3, 4) % 5 - 2
    K = torch.tensor([[1, -1, 2, 0], [3, 0, -2, 1], [0, 1, 1, -1]])
    with no_library(autograd=True):
        check(corr2d_backward(X, K, torch.tensor([[3]])))
        check(corr2d_backward(X, K[:2, :3], torch.tensor([[1, -2], [0, 4]])))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION


# %% [raw]
# # BEGIN QUESTION
# name: delta_recursion
# points: 3

# %% [markdown]
# ## 6. The error term through an activation
#
# Layer $l$ computes $\mathbf H^{(l)}$ (`H`, shape $(c, h, w)$) and passes $\mathbf A^{(l)} = f(\mathbf H^{(l)})$
# to layer $l+1$, a convolution with kernels `K` of shape $(c_o, c, k_h, k_w)$ (stride 1, no padding) and a bias:
# $\mathbf H^{(l+1)}_o = b_o + \sum_c \mathbf A^{(l)}_c \star \mathbf K_{o,c}$. Given that layer's error term
# $\boldsymbol\delta^{(l+1)} = \partial L / \partial \mathbf H^{(l+1)}$ (`delta`, shape
# $(c_o, h - k_h + 1, w - k_w + 1)$), write `previous_delta(H, K, delta, activation="relu")` returning
# $\boldsymbol\delta^{(l)} = \partial L / \partial \mathbf H^{(l)}$, the shape of `H`, without autograd, for
# `activation` `"relu"` (take $f'(h) = 1$ where $h > 0$ and $0$ elsewhere, as the chapter and autograd do) or
# `"sigmoid"`. This is the chapter's recursion for $\boldsymbol\delta$; check your answer against autograd in a
# cell of your own.

# %% [raw]
# # BEGIN SOLUTION

# %%
def previous_delta(H, K, delta, activation="relu"):
    # BEGIN SOLUTION
    c_o, c, k_h, k_w = K.shape
    grad_A = torch.zeros(H.shape, dtype=torch.result_type(delta, K))
    for o in range(c_o):
        padded = F.pad(delta[o], (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
        for channel in range(c):   # the full convolution of delta_o with K[o, channel]
            grad_A[channel] += corr2d(padded, torch.flip(K[o, channel], dims=(0, 1)))
    if activation == "relu":
        slope = (H > 0).to(grad_A.dtype)
    else:
        sigmoid = torch.sigmoid(H)
        slope = sigmoid * (1 - sigmoid)
    return slope * grad_A
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_one_channel_relu(previous_delta):
    import torch
    from grading.checks import check, no_library
    H = torch.tensor([[[1.0, -2.0, 0.5], [-1.0, 3.0, 2.0], [0.25, -0.5, 1.5]]])
    K = torch.tensor([[[[1.0, 2.0], [0.0, -1.0]]]])
    delta = torch.tensor([[[1.0, -1.0], [2.0, 0.5]]])
    with no_library(autograd=True):
        got = previous_delta(H, K, delta, "relu")
    check(got, [[[1.0, 0.0, -2.0], [0.0, 3.5, 2.0], [0.0, 0.0, -0.5]]])


# %%
# HIDDEN
def test_relu_channels_against_autograd(previous_delta):
    import torch
    import torch.nn.functional as F
    from grading.checks import check, no_library
    H = (torch.arange(2 * 5 * 6, dtype=torch.float64).reshape(2, 5, 6) * 7 % 11 - 5) / 2   # some exact zeros
    K = torch.arange(3 * 2 * 2 * 3, dtype=torch.float64).reshape(3, 2, 2, 3).cos()
    delta = torch.arange(3 * 4 * 4, dtype=torch.float64).reshape(3, 4, 4).sin()
    leaf = H.clone().requires_grad_()
    (delta * F.conv2d(torch.relu(leaf)[None], K)[0]).sum().backward()
    with no_library(autograd=True):
        got = previous_delta(H, K, delta, "relu")
    check(got, leaf.grad)


# %%
# HIDDEN
def test_sigmoid_channels_against_autograd(previous_delta):
    import torch
    import torch.nn.functional as F
    from grading.checks import check, no_library
    H = torch.arange(3 * 6 * 5, dtype=torch.float64).reshape(3, 6, 5).sin() * 3
    K = torch.arange(2 * 3 * 3 * 2, dtype=torch.float64).reshape(2, 3, 3, 2).cos()
    delta = torch.arange(2 * 4 * 4, dtype=torch.float64).reshape(2, 4, 4).cos()
    leaf = H.clone().requires_grad_()
    (delta * F.conv2d(torch.sigmoid(leaf)[None], K)[0]).sum().backward()
    with no_library(autograd=True):
        got = previous_delta(H, K, delta, "sigmoid")
    check(got, leaf.grad)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: strided_conv_gradient
# points: 3

# %% [markdown]
# ## 7. The gradients of a strided convolution
#
# Now the layer has a stride, an int or a pair $(s_h, s_w)$, and still no padding:
# $Y_{i,j} = \sum_{a,b} X_{i s_h + a,\ j s_w + b}\, K_{a,b}$, with $\lfloor (n_h - k_h)/s_h \rfloor + 1$ rows and
# $\lfloor (n_w - k_w)/s_w \rfloor + 1$ columns. Given $G = \partial L / \partial Y$, write
# `corr2d_strided_backward(X, K, G, stride)` returning the pair $(\partial L/\partial X,\ \partial L/\partial K)$
# without autograd, each the shape of what it is the gradient of. [Chapter 4](../chapters/04_channels.ipynb)'s
# section on backpropagation through a convolution says how a stride changes question 5's formulas; mind the rows
# and columns of `X` that no window reads. Check your answer against autograd through
# `torch.nn.functional.conv2d(..., stride=stride)` in a cell of your own.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_strided_backward(X, K, G, stride):
    # BEGIN SOLUTION
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    k_h, k_w = K.shape
    m_h, m_w = G.shape
    # G with s - 1 zeros between its entries: the error term of the stride-1 layer, whose skipped outputs get none
    spread = torch.zeros((s_h * (m_h - 1) + 1, s_w * (m_w - 1) + 1), dtype=G.dtype)
    spread[::s_h, ::s_w] = G
    read = X[:spread.shape[0] + k_h - 1, :spread.shape[1] + k_w - 1]   # what some window reads
    grad_K = corr2d(read, spread)
    grad_X = torch.zeros(X.shape, dtype=torch.result_type(G, K))   # rows and columns never read get zero
    padded = F.pad(spread, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    grad_X[:read.shape[0], :read.shape[1]] = corr2d(padded, torch.flip(K, dims=(0, 1)))
    return grad_X, grad_K
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_stride_two(corr2d_strided_backward):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(25.0).reshape(5, 5)
    K = torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    with no_library(autograd=True):
        grad_X, grad_K = corr2d_strided_backward(X, K, torch.tensor([[1.0, 2.0], [3.0, 4.0]]), 2)
    check(grad_K, [[82.0, 92.0, 102.0], [132.0, 142.0, 152.0], [182.0, 192.0, 202.0]])
    check(grad_X, [[1.0, 0.0, 1.0, 0.0, -2.0], [2.0, 1.0, 4.0, 2.0, 0.0], [3.0, 1.0, 2.0, 2.0, -2.0],
                   [6.0, 3.0, 8.0, 4.0, 0.0], [0.0, 3.0, 3.0, 4.0, 4.0]])


# %%
# HIDDEN
def test_rows_no_window_reads_against_autograd(corr2d_strided_backward):
    import torch
    import torch.nn.functional as F
    from grading.checks import check, no_library
    X = torch.arange(8 * 9, dtype=torch.float64).reshape(8, 9).sin()
    K = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    for stride in (3, 2):   # 3: a stride longer than the kernel; both leave rows or columns that no window reads
        X_, K_ = X.clone().requires_grad_(), K.clone().requires_grad_()
        Y = F.conv2d(X_[None, None], K_[None, None], stride=stride)[0, 0]
        G = torch.arange(Y.numel(), dtype=torch.float64).reshape(Y.shape).cos()
        (G * Y).sum().backward()
        with no_library(autograd=True):
            grad_X, grad_K = corr2d_strided_backward(X, K, G, stride)
        check(grad_X, X_.grad)
        check(grad_K, K_.grad)


# %%
# HIDDEN
def test_uneven_strides_against_autograd(corr2d_strided_backward):
    import torch
    import torch.nn.functional as F
    from grading.checks import check, no_library
    X = torch.arange(9 * 11, dtype=torch.float64).reshape(9, 11).cos()
    K = torch.arange(6, dtype=torch.float64).reshape(2, 3).sin()
    for stride in ((2, 3), (3, 1), (1, 1)):
        X_, K_ = X.clone().requires_grad_(), K.clone().requires_grad_()
        Y = F.conv2d(X_[None, None], K_[None, None], stride=stride)[0, 0]
        G = torch.arange(Y.numel(), dtype=torch.float64).reshape(Y.shape).sin()
        (G * Y).sum().backward()
        with no_library(autograd=True):
            grad_X, grad_K = corr2d_strided_backward(X, K, G, stride)
        check(grad_X, X_.grad)
        check(grad_K, K_.grad)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
