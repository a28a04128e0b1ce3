# %% [markdown]
# # Exercises: padding, stride and dilation
#
# These exercises go with the chapter *Padding, stride and dilation*. Each question ends with a check cell: run
# it for immediate feedback from the public tests. Your notebook is graded later with more (hidden) tests, so make
# your functions correct in general, not just on the examples shown.
#
# Write each operation yourself: inside your answers do not call torch's convolution, `unfold` or pooling
# functions or the book's helpers (`book.conv`, `book.pool`, `book.shapes`, `book.cost`). The grader detects
# those calls and the test fails. `torch.nn.functional.pad` is allowed.

# %%
import torch
import torch.nn.functional as F


def corr2d(X, K):
    """The cross-correlation of exercise 1 (no padding, stride 1), for you to build on."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


# %% [raw]
# # BEGIN QUESTION
# name: output_size
# points: 2

# %% [markdown]
# ## 1. The output size
#
# An input of size $n$, a kernel of size $k$, padding $p$ on both sides, stride $s$ and dilation $d$ give
# $\left\lfloor \dfrac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1$ outputs along that axis.
# Write `conv_output_size(n, k, padding=0, stride=1, dilation=1)` for one axis (ints in, an int out); raise a
# `ValueError` when the (dilated) kernel does not fit in the padded input.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    # BEGIN SOLUTION
    span = n + 2 * padding - dilation * (k - 1) - 1
    if span < 0:
        raise ValueError(f"a kernel of size {k} with dilation {dilation} does not fit in {n} + 2*{padding}")
    return span // stride + 1
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_textbook_examples(conv_output_size):
    from grading.checks import check, no_library
    with no_library():
        check(conv_output_size(8, 3, padding=1), 8)
        check(conv_output_size(8, 3, padding=1, stride=2), 4)
        check([conv_output_size(8, 3, 0, 3), conv_output_size(8, 5, 1, 4)], [2, 2])


# %%
# HIDDEN
def test_dilation_and_odd_sizes(conv_output_size):
    from grading.checks import check, no_library
    cases = [(28, 5, 2, 1, 1), (32, 3, 0, 2, 2), (7, 3, 1, 3, 1), (10, 4, 3, 3, 2), (5, 5, 0, 1, 1), (224, 7, 3, 2, 1)]
    with no_library():
        check([conv_output_size(*case) for case in cases])


# %%
# HIDDEN
def test_too_large_kernel(conv_output_size):
    from grading.checks import check
    raised = []
    for case in [(3, 5, 0, 1, 1), (5, 3, 0, 1, 3)]:
        try:
            conv_output_size(*case)
            raised.append(False)
        except ValueError:
            raised.append(True)
    check(raised)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: padded_strided
# points: 3

# %% [markdown]
# ## 2. Padding and stride
#
# Write `corr2d_padded(X, K, padding=0, stride=1)`: pad the matrix `X` with zeros (`padding` rows above and below,
# columns left and right), then cross-correlate with `K`, moving the window `stride` steps at a time. `padding` and
# `stride` are each an int or a pair `(for rows, for columns)`. Keep the dtype of the inputs.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_padded(X, K, padding=0, stride=1):
    # BEGIN SOLUTION
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return corr2d(X, K)[::s_h, ::s_w]
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_padding_keeps_the_size(corr2d_padded):
    import torch
    from grading.checks import check, no_library
    with no_library():
        Y = corr2d_padded(torch.ones((3, 3)), torch.ones((2, 2)), padding=1)
    check(Y, [[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]])


# %%
def test_stride_two(corr2d_padded):
    import torch
    from grading.checks import check, no_library
    with no_library():
        Y = corr2d_padded(torch.ones((3, 3)), torch.ones((2, 2)), padding=1, stride=2)
    check(Y, [[1.0, 2.0], [2.0, 4.0]])


# %%
# HIDDEN
def test_pairs_and_integers(corr2d_padded):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(56).reshape(7, 8) % 5 - 2
    K = torch.tensor([[1, 0, -2], [3, 1, 1]])
    with no_library():
        check(corr2d_padded(X, K, padding=(0, 1), stride=(3, 4)))
        check(corr2d_padded(X, K, padding=2, stride=(1, 2)))
        check(corr2d_padded(X.float().sin(), K.float(), padding=(1, 0), stride=3))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: stacked_kernels
# points: 3

# %% [markdown]
# ## 3. Two kernels in a row are one bigger kernel
#
# Cross-correlating with `K1` and then with `K2` (no padding, stride 1, nothing in between) is the same as one
# cross-correlation with a single kernel `K`. Write `compose_kernels(K1, K2)` that returns that `K`. What is its
# shape? Show that your answer is right: `corr2d(corr2d(X, K1), K2)` must equal `corr2d(X, K)` for any `X`.
# Is the converse true, can every kernel be split into two smaller ones? (Think about it; it is not graded.)

# %% [raw]
# # BEGIN SOLUTION

# %%
def compose_kernels(K1, K2):
    # BEGIN SOLUTION
    (a_h, a_w), (b_h, b_w) = K1.shape, K2.shape
    K = torch.zeros((a_h + b_h - 1, a_w + b_w - 1), dtype=torch.result_type(K1, K2))
    for i in range(b_h):
        for j in range(b_w):
            K[i:i + a_h, j:j + a_w] += K2[i, j] * K1
    return K
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_difference_then_sum(compose_kernels):
    import torch
    from grading.checks import check, no_library
    with no_library():
        check(compose_kernels(torch.tensor([[1.0, -1.0]]), torch.tensor([[1.0, 1.0]])), [[1.0, 0.0, -1.0]])


# %%
# HIDDEN
def test_rectangular_kernels(compose_kernels):
    import torch
    from grading.checks import check, no_library
    K1 = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    K2 = torch.tensor([[2.0, -1.0], [1.0, 0.25], [0.0, 4.0]])
    with no_library():
        check(compose_kernels(K1, K2))
        check(compose_kernels(K2, K1))


# %%
# HIDDEN
def test_equivalence_on_an_image(compose_kernels, corr2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(80.0).reshape(8, 10).sin()
    K1, K2 = torch.tensor([[1.0, -2.0], [0.5, 1.0]]), torch.tensor([[3.0, 0.0, -1.0]])
    with no_library():
        K = compose_kernels(K1, K2)
    check(corr2d(X, K))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
