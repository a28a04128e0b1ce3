# %% [markdown]
# # Exercises: from fully connected layers to convolutions
#
# These exercises go with [chapter 2, *From fully connected layers to
# convolutions*](../chapters/02_fc_to_conv.ipynb). Each question ends with a check cell: run it for immediate
# feedback from the public tests. Your notebook is graded later with more
# (hidden) tests, so make your functions correct in general, not just on the examples shown.
#
# Where a question asks you to write an operation yourself, do not call torch's convolution, `unfold` or pooling
# functions or the book's helpers (`book.conv`, `book.pool`, `book.shapes`, `book.cost`) inside your answer: the
# grader detects those calls and the test fails.


# %% [markdown]
# STARTER allowed

# %%
import torch
from torch import nn


# STARTER corr2d

# %% [raw]
# # BEGIN QUESTION
# name: parameter_counts
# points: 2

# %% [markdown]
# ## 1. What locality and translation invariance save
#
# A fully connected layer maps a single-channel $h \times w$ image to a hidden representation of $h' \times w'$
# values: one weight for every (input pixel, hidden value) pair and one bias per hidden value. A convolution
# keeps only a $(2\Delta+1) \times (2\Delta+1)$ window of weights, shared by every position, plus one bias.
#
# Write `fc_parameter_count(h, w, h_out, w_out)` and `conv_parameter_count(delta)` (plain Python ints).

# %% [raw]
# # BEGIN SOLUTION

# %%
def fc_parameter_count(h, w, h_out, w_out):
    return h * w * h_out * w_out + h_out * w_out  # SOLUTION


def conv_parameter_count(delta):
    return (2 * delta + 1) ** 2 + 1  # SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_small_layers(fc_parameter_count, conv_parameter_count):
    from grading.checks import check
    check(fc_parameter_count(2, 2, 2, 2), 20)
    check(conv_parameter_count(1), 10)


# %%
# HIDDEN
def test_megapixel_layers(fc_parameter_count, conv_parameter_count):
    from grading.checks import check
    check(fc_parameter_count(1000, 1000, 1000, 1000))
    check(fc_parameter_count(28, 32, 14, 16))
    check([conv_parameter_count(delta) for delta in (0, 2, 5)])


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: conv_as_matrix
# points: 3

# %% [markdown]
# ## 2. A convolution is a fully connected layer with shared, local weights
#
# Flatten a single-channel input `X` of shape `input_shape` row by row into a vector $x$. The cross-correlation
# with a kernel `K` (no padding, stride 1) is then a matrix product: $\operatorname{vec}(Y) = W x$.
# Write `conv_as_matrix(K, input_shape)` that builds $W$, of shape (number of outputs, number of inputs), with the
# dtype of `K`. Most of its entries are zero (locality), and every row holds the same weights (sharing).

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_as_matrix(K, input_shape):
    # BEGIN SOLUTION
    (n_h, n_w), (k_h, k_w) = input_shape, K.shape
    out_h, out_w = n_h - k_h + 1, n_w - k_w + 1
    W = torch.zeros((out_h * out_w, n_h * n_w), dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            row = W[i * out_w + j].view(n_h, n_w)
            row[i:i + k_h, j:j + k_w] = K
    return W
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_one_row(conv_as_matrix):
    import torch
    from grading.checks import check, no_library
    with no_library():
        W = conv_as_matrix(torch.tensor([[1.0, 2.0]]), (1, 3))
    check(W, [[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]])


# %%
# HIDDEN
def test_rectangular(conv_as_matrix):
    import torch
    from grading.checks import check, no_library
    with no_library():
        check(conv_as_matrix(torch.tensor([[1.0, -2.0], [3.0, 0.5]]), (3, 4)))
        check(conv_as_matrix(torch.arange(6.0).reshape(2, 3) - 2.5, (4, 5)))


# %%
# HIDDEN
def test_matches_the_convolution(conv_as_matrix):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(30.0).reshape(5, 6).cos()
    K = torch.tensor([[0.5, 1.0, -1.0], [2.0, 0.0, 0.25]])
    with no_library():
        W = conv_as_matrix(K, (5, 6))
    check(W @ X.reshape(-1))


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
# name: receptive_field
# points: 2

# %% [markdown]
# ## 4. Receptive field
#
# A stack of convolution (or pooling) layers is given as a list of `(kernel_size, stride)` pairs, first layer
# first, square kernels, no dilation. Write `receptive_field(layers)` that returns the side, in input pixels, of
# the receptive field of one unit of the last layer (an int; an empty stack sees one pixel). Derive it yourself:
# do not call `book.shapes.receptive_field`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def receptive_field(layers):
    # BEGIN SOLUTION
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump *= stride
    return size
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_stride_one(receptive_field):
    from grading.checks import check, no_library
    with no_library():
        check([receptive_field([(3, 1)]), receptive_field([(3, 1), (3, 1)])], [3, 5])


# %%
# HIDDEN
def test_strides_and_pooling(receptive_field):
    from grading.checks import check, no_library
    stacks = [[(3, 2), (3, 1)], [(3, 2)] * 3, [(5, 1), (2, 2), (5, 1), (2, 2)], [(7, 2), (3, 2), (1, 1), (3, 1)],
              [(1, 1)], [], [(2, 2), (3, 3), (4, 1)], [(11, 4), (3, 2), (5, 1)]]
    with no_library():
        check([receptive_field(stack) for stack in stacks])


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
# %% [raw]
# # BEGIN QUESTION
# name: stacked_kernels
# points: 3

# %% [markdown]
# ## 5. Two kernels in a row are one bigger kernel
#
# Cross-correlating with `K1` and then with `K2` (no padding, stride 1, nothing in between) is the same as one
# cross-correlation with a single kernel `K`. Write `compose_kernels(K1, K2)` that returns that `K`. What is its
# shape? Show that your answer is right: `corr2d(corr2d(X, K1), K2)` must equal `corr2d(X, K)` for any `X`.
#
# Then think about the converse (not graded): can every $3 \times 3$ kernel be split into two $2 \times 2$ ones?
# Count the numbers you would get to choose on each side.

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

# %% [raw]
# # BEGIN QUESTION
# name: learn_kernel
# points: 2

# %% [markdown]
# ## 6. Learning a kernel from examples
#
# Given an input `X` and the output `Y = corr2d(X, K_true)` of an unknown kernel of shape `kernel_shape`, recover
# the kernel by gradient descent on the squared error, as the chapter does (the tests check the kernel, not the
# method: a least-squares solve is accepted too). Write `learn_kernel(X, Y, kernel_shape)` that returns the
# learned kernel as a tensor of shape `kernel_shape`, within 0.05 of the true one in every entry, in about a second.
# Here you may use autograd and `nn.Conv2d` or `torch.nn.functional.conv2d`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def learn_kernel(X, Y, kernel_shape, steps=300, lr=0.5):
    # BEGIN SOLUTION
    K = torch.zeros(kernel_shape, requires_grad=True)
    for _ in range(steps):
        prediction = torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]
        loss = ((prediction - Y) ** 2).mean()
        grad, = torch.autograd.grad(loss, K)
        with torch.no_grad():   # plain gradient descent, as in the chapter
            K -= lr * grad
    return K.detach()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_vertical_edge_kernel(learn_kernel):
    import torch
    from grading.checks import check
    X = torch.randn((6, 8), generator=torch.Generator().manual_seed(0))
    Y = X[:, :-1] - X[:, 1:]
    check(learn_kernel(X, Y, (1, 2)), [[1.0, -1.0]], atol=0.05, rtol=0.0)


# %%
# HIDDEN
def test_diagonal_kernel(learn_kernel):
    import torch
    from grading.checks import check
    X = torch.randn((8, 8), generator=torch.Generator().manual_seed(1))
    Y = 0.5 * X[:-1, :-1] - X[1:, 1:]
    check(learn_kernel(X, Y, (2, 2)), [[0.5, 0.0], [0.0, -1.0]], atol=0.05, rtol=0.0)   # the true kernel


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
