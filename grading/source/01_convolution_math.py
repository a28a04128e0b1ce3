# %% [markdown]
# # Exercises: the mathematics of convolution
#
# These exercises go with the chapter *The mathematics of convolution*. Each question ends with a check cell:
# run it for immediate feedback from the public tests. Your notebook is graded later with more (hidden) tests,
# so make your functions correct in general, not just on the examples shown.
#
# The point of each question is to write the operation yourself: use tensors, indexing, elementwise operations
# and reductions, but inside your answers do not call torch's convolution, `unfold` or pooling functions, the
# book's helpers (`book.conv`, `book.pool`, `book.shapes`, `book.cost`) or `d2l.corr2d`. The grader detects
# calls to torch's functions and the book's helpers, and such a test fails. Checking your answer against them in
# a cell of your own is fine.

# %%
import torch

# %% [raw]
# # BEGIN QUESTION
# name: corr2d
# points: 3

# %% [markdown]
# ## 1. Cross-correlation
#
# Write `corr2d(X, K)`, the 2D cross-correlation of a matrix `X` of shape $(n_h, n_w)$ with a kernel `K` of shape
# $(k_h, k_w)$:
#
# $$Y_{i,j} = \sum_{a=0}^{k_h-1} \sum_{b=0}^{k_w-1} X_{i+a,\, j+b}\, K_{a,b}.$$
#
# The output has shape $(n_h - k_h + 1, n_w - k_w + 1)$. Keep the dtype: integer inputs give an integer output
# (a case `torch.nn.functional.conv2d` does not even accept on the CPU).

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d(X, K):
    # BEGIN SOLUTION
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_textbook_example(corr2d):
    import torch
    from grading.checks import check, no_library
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    with no_library():
        Y = corr2d(X, K)
    check(Y, [[19.0, 25.0], [37.0, 43.0]])


# %%
def test_vertical_edge(corr2d):
    import torch
    from grading.checks import check, no_library
    X = torch.ones((3, 6))
    X[:, 2:4] = 0
    with no_library():
        Y = corr2d(X, torch.tensor([[1.0, -1.0]]))
    check(Y, [[0.0, 1.0, 0.0, -1.0, 0.0]] * 3)


# %%
# HIDDEN
def test_rectangular_kernel(corr2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(35.0).reshape(5, 7).sin()
    K = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    with no_library():
        check(corr2d(X, K))
        check(corr2d(X.T, K.T))


# %%
# HIDDEN
def test_integer_input(corr2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(24).reshape(4, 6) % 7 - 3
    K = torch.tensor([[2, -1], [0, 3]])
    with no_library():
        check(corr2d(X, K))


# %%
# HIDDEN
def test_kernel_as_large_as_input(corr2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(6.0).reshape(2, 3)
    with no_library():
        check(corr2d(X, torch.ones((2, 3))))
        check(corr2d(X, torch.tensor([[2.0]])))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: output_shape
# points: 1

# %% [markdown]
# ## 2. The output size
#
# Write `corr2d_output_shape(input_shape, kernel_shape)` that returns the output shape of `corr2d` as a tuple of
# two ints, from the shapes alone (no tensor is needed). Raise a `ValueError` when the kernel is larger than the
# input in either direction.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_output_shape(input_shape, kernel_shape):
    # BEGIN SOLUTION
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_shape
    if k_h > n_h or k_w > n_w:
        raise ValueError(f"kernel {kernel_shape} is larger than the input {input_shape}")
    return (n_h - k_h + 1, n_w - k_w + 1)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_examples(corr2d_output_shape):
    from grading.checks import check, no_library
    with no_library():
        check(corr2d_output_shape((3, 3), (2, 2)), (2, 2))
        check(corr2d_output_shape((6, 8), (1, 2)), (6, 7))


# %%
# HIDDEN
def test_many_shapes(corr2d_output_shape):
    from grading.checks import check, no_library
    with no_library():
        for shape in [((28, 28), (5, 5)), ((7, 3), (7, 1)), ((1, 9), (1, 9)), ((100, 64), (3, 11))]:
            check(corr2d_output_shape(*shape))


# %%
# HIDDEN
def test_kernel_too_large(corr2d_output_shape):
    from grading.checks import check
    raised = []
    for shape in [((3, 3), (4, 1)), ((5, 2), (1, 3))]:
        try:
            corr2d_output_shape(*shape)
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
# name: diagonal_kernel
# points: 2

# %% [markdown]
# ## 3. A kernel that sees diagonal edges
#
# The kernel `[[1, -1]]` finds vertical edges. Design a kernel `diagonal_kernel` (a 2D float tensor, at most
# $5 \times 5$) such that `corr2d(X, diagonal_kernel)` is
#
# * exactly zero on a constant image, on an image with only a vertical edge and on one with only a horizontal edge;
# * non-zero all along a diagonal edge, in both directions (`\` and `/`).
#
# Hint: what must the entries of the kernel add up to along each row and each column?

# %% [raw]
# # BEGIN SOLUTION

# %%
diagonal_kernel = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_flat_and_straight_edges(diagonal_kernel):
    import torch
    from grading.checks import check
    X = torch.zeros((8, 8))
    X[:, 4:] = 1.0
    K = torch.as_tensor(diagonal_kernel, dtype=torch.float32)
    response = torch.stack([torch.nn.functional.conv2d(image[None, None], K[None, None])[0, 0].abs().max()
                            for image in (X, X.T, torch.ones(8, 8))])
    check(response, [0.0, 0.0, 0.0], atol=1e-6)


# %%
# HIDDEN
def test_diagonal_edges(diagonal_kernel):
    from grading.checks import check
    check(diagonal_kernel, rule="diagonal_edge_kernel")


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: convolve2d
# points: 2

# %% [markdown]
# ## 4. Convolution is cross-correlation with a flipped kernel
#
# In signal processing, the (true) convolution flips the kernel:
# $Y_{i,j} = \sum_{a,b} X_{i+a,\,j+b}\, K_{k_h-1-a,\;k_w-1-b}$ (the "valid" part). Write `convolve2d(X, K)`
# using your `corr2d`. It must agree with `scipy.signal.convolve2d(X, K, mode="valid")`, which you may use to
# check your answer in a cell of your own, but not inside `convolve2d`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def convolve2d(X, K):
    return corr2d(X, torch.flip(K, dims=(0, 1)))  # SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_flipped_example(convolve2d):
    import torch
    from grading.checks import check, no_library
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    with no_library():
        check(convolve2d(X, torch.tensor([[0.0, 1.0], [2.0, 3.0]])), [[5.0, 11.0], [23.0, 29.0]])


# %%
# HIDDEN
def test_asymmetric_kernels(convolve2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(42.0).reshape(6, 7).cos()
    with no_library():
        check(convolve2d(X, torch.tensor([[1.0, 2.0, -3.0], [0.5, 0.0, 4.0]])))
        check(convolve2d(X, torch.tensor([[1.0], [-2.0], [0.25]])))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
