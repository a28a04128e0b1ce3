# %% [markdown]
# # Exercises: pooling, and gradients through a convolution
#
# These exercises go with the chapter *Pooling*. Each question ends with a check cell: run it for immediate
# feedback from the public tests. Your notebook is graded later with more (hidden) tests, so make your functions
# correct in general, not just on the examples shown.
#
# Write each operation yourself: inside your answers do not call torch's pooling, convolution or `unfold`
# functions, autograd (in question 3) or the book's helpers (`book.conv`, `book.pool`, `book.shapes`,
# `book.cost`). The grader detects those calls and the test fails. `torch.nn.functional.pad` is allowed.

# %%
import torch
import torch.nn.functional as F


def corr2d(X, K):
    """The single-channel cross-correlation of exercise 1, for you to build on."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


# %% [raw]
# # BEGIN QUESTION
# name: pool2d
# points: 2

# %% [markdown]
# ## 1. Maximum and average pooling
#
# Write `pool2d(X, pool_size, mode="max")` for a matrix `X` and `pool_size` $(p_h, p_w)$: each output element is
# the maximum (`mode="max"`) or the mean (`mode="avg"`) of a $p_h \times p_w$ window, moving one step at a time,
# without padding.

# %% [raw]
# # BEGIN SOLUTION

# %%
def pool2d(X, pool_size, mode="max"):
    # BEGIN SOLUTION
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
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
# name: conv_gradient
# points: 3

# %% [markdown]
# ## 3. The gradient of a convolution layer
#
# Let $Y = $ `corr2d(X, K)` and let $G = \partial L / \partial Y$ come from the layers above. Write
# `corr2d_backward(X, K, G)` returning the pair $(\partial L/\partial X,\ \partial L/\partial K)$ without autograd:
#
# * $\partial L/\partial K_{a,b} = \sum_{i,j} G_{i,j}\, X_{i+a,\,j+b}$, a cross-correlation of $X$ with $G$;
# * $\partial L/\partial X_{p,q} = \sum_{i,j} G_{i,j}\, K_{p-i,\,q-j}$ (terms with indices outside $K$ are zero),
#   a "full" cross-correlation of the zero-padded $G$ with the kernel rotated by 180 degrees.
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


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
