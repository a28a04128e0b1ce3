# %% [markdown]
# # Exercises: multiple input and output channels
#
# These exercises go with the chapter *Multiple input and output channels*. Each question ends with a check cell:
# run it for immediate feedback from the public tests. Your notebook is graded later with more (hidden) tests, so
# make your functions correct in general, not just on the examples shown.
#
# Write each operation and formula yourself: inside your answers do not call torch's convolution, `unfold` or
# pooling functions or the book's helpers (`book.conv`, `book.pool`, `book.shapes`, `book.cost`). The grader
# detects those calls and the test fails.

# %%
import torch


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
# name: multi_channel
# points: 3

# %% [markdown]
# ## 1. Several input and output channels
#
# Write `corr2d_multi_in_out(X, K)` for an input `X` of shape $(c_i, h, w)$ and a kernel `K` of shape
# $(c_o, c_i, k_h, k_w)$: output channel $o$ is the sum over input channels $c$ of `corr2d(X[c], K[o, c])`.
# The result has shape $(c_o, h - k_h + 1, w - k_w + 1)$ and the dtype of the inputs.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_multi_in_out(X, K):
    # BEGIN SOLUTION
    return torch.stack([sum(corr2d(x, k) for x, k in zip(X, kernel)) for kernel in K])
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_textbook_example(corr2d_multi_in_out):
    import torch
    from grading.checks import check, no_library
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    K = torch.stack((K, K + 1, K + 2))
    with no_library():
        Y = corr2d_multi_in_out(X, K)
    check(Y, [[[56.0, 72.0], [104.0, 120.0]], [[76.0, 100.0], [148.0, 172.0]], [[96.0, 128.0], [192.0, 224.0]]])


# %%
# HIDDEN
def test_rectangular_many_channels(corr2d_multi_in_out):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(3 * 5 * 6, dtype=torch.float64).reshape(3, 5, 6).sin()
    K = torch.arange(4 * 3 * 2 * 3, dtype=torch.float64).reshape(4, 3, 2, 3).cos()
    with no_library():
        check(corr2d_multi_in_out(X, K))


# %%
# HIDDEN
def test_integers_one_output_channel(corr2d_multi_in_out):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(2 * 4 * 4).reshape(2, 4, 4) % 7 - 3
    K = torch.tensor([[[[1, -1], [0, 2]], [[3, 0], [-2, 1]]]])
    with no_library():
        check(corr2d_multi_in_out(X, K))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: cost_and_memory
# points: 3

# %% [markdown]
# ## 2. What a convolution layer costs
#
# A layer with $c_i$ input channels of size $h \times w$, $c_o$ kernels of size $c_i \times k_h \times k_w$,
# padding $p$ on every side and stride $s$ has an $m_h \times m_w$ output (the formula of the previous chapter).
# Per example, count:
#
# * `forward_macs`: multiply-adds of the forward pass, $c_o\, c_i\, k_h\, k_w\, m_h\, m_w$ (ignore the bias);
# * `backward_macs`: the backward pass computes two gradients, $\partial L/\partial X$ and
#   $\partial L/\partial K$, each as costly as the forward pass;
# * `parameters`: weights and one bias per output channel;
# * `forward_memory`: values held by the forward pass: parameters + input + output;
# * `backward_memory`: the backward pass adds a gradient of the same size for each of those.
#
# Write `conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1)` returning a dict with these five keys
# (ints, counting values, not bytes).

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    # BEGIN SOLUTION
    m_h = (h + 2 * padding - k_h) // stride + 1
    m_w = (w + 2 * padding - k_w) // stride + 1
    forward = c_o * c_i * k_h * k_w * m_h * m_w
    parameters = c_o * c_i * k_h * k_w + c_o
    memory = parameters + c_i * h * w + c_o * m_h * m_w
    return {"forward_macs": forward, "backward_macs": 2 * forward, "parameters": parameters,
            "forward_memory": memory, "backward_memory": 2 * memory}
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_small_layer(conv_cost):
    from grading.checks import check, no_library
    with no_library():
        cost = conv_cost(2, 3, 2, 2, 3, 3)
    check(cost, {"forward_macs": 96, "backward_macs": 192, "parameters": 27, "forward_memory": 57,
                 "backward_memory": 114})


# %%
# HIDDEN
def test_padding_and_stride(conv_cost):
    from grading.checks import check, no_library
    with no_library():
        check(conv_cost(3, 64, 3, 3, 224, 224, padding=1))
        check(conv_cost(64, 128, 3, 5, 56, 56, padding=2, stride=2))
        check(conv_cost(1, 6, 5, 5, 28, 28, padding=2))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: doubling_channels
# points: 2

# %% [markdown]
# ## 3. Doubling the channels
#
# Double both $c_i$ and $c_o$ and keep everything else. By what factor do the forward multiply-adds, the input
# memory and the output memory grow? Set the three variables below to those factors (numbers). Then think: what
# happens to the cost if you double the padding instead? (Not graded.)

# %% [raw]
# # BEGIN SOLUTION

# %%
forward_macs_factor = 4  # SOLUTION
input_memory_factor = 2  # SOLUTION
output_memory_factor = 2  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_answers_are_numbers(forward_macs_factor, input_memory_factor, output_memory_factor):
    from grading.checks import check
    factors = (forward_macs_factor, input_memory_factor, output_memory_factor)
    check([type(v) in (int, float) and v > 0 for v in factors], [True, True, True])


# %%
# HIDDEN
def test_factors(forward_macs_factor, input_memory_factor, output_memory_factor):
    from grading.checks import check
    check([forward_macs_factor, input_memory_factor, output_memory_factor])


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
