# %% [markdown]
# # Exercises: multiple input and output channels
#
# These exercises go with [chapter 4, *Multiple input and output channels*](../chapters/04_channels.ipynb). Each
# question ends with a check cell: run it for immediate feedback from the public tests. Your notebook is graded later with more (hidden) tests, so
# make your functions correct in general, not just on the examples shown.
#
# Write each operation and formula yourself: inside your answers do not call torch's convolution, `unfold` or
# pooling functions or the book's helpers (`book.conv`, `book.pool`, `book.shapes`, `book.cost`). The grader
# detects those calls and the test fails.


# %% [markdown]
# STARTER allowed

# %%
import torch


# STARTER corr2d


# %% [raw]
# # BEGIN QUESTION
# name: multi_channel
# points: 3

# %% [markdown]
# ## 1. Several input and output channels
#
# Write `corr2d_multi_in_out(X, K)`, the chapter's cross-correlation of an input `X` of shape $(c_i, h, w)$ with
# a kernel `K` of shape $(c_o, c_i, k_h, k_w)$ (no padding, stride 1, no bias): one output channel per kernel
# `K[o]`, each combining every input channel. Use `corr2d` for the single-channel work; keep the dtype.

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
# name: conv_layer
# points: 2

# %% [markdown]
# ## 2. What `nn.Conv2d` computes on a batch
#
# Write `conv2d_layer(X, weight, bias)` for a batch `X` of shape $(N, c_i, h, w)$, a `weight` of shape
# $(c_o, c_i, k_h, k_w)$ and a `bias` of shape $(c_o,)$: the output of an `nn.Conv2d` holding those tensors
# (stride 1, no padding), of shape $(N, c_o, \ldots)$. You may build on `corr2d_multi_in_out`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv2d_layer(X, weight, bias):
    # BEGIN SOLUTION
    return torch.stack([corr2d_multi_in_out(x, weight) for x in X]) + bias.reshape(-1, 1, 1)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_one_example(conv2d_layer):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(18.0).reshape(1, 2, 3, 3)
    weight = torch.ones(3, 2, 2, 2)
    with no_library():
        Y = conv2d_layer(X, weight, torch.tensor([0.5, -1.0, 2.0]))
    check(Y[0, :, 0, 0], [52.5, 51.0, 54.0])
    check(tuple(Y.shape), (1, 3, 2, 2))


# %%
# HIDDEN
def test_batch_channels_rectangles(conv2d_layer):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(3 * 2 * 4 * 5, dtype=torch.float64).reshape(3, 2, 4, 5).sin()
    weight = torch.arange(4 * 2 * 2 * 3, dtype=torch.float64).reshape(4, 2, 2, 3).cos()
    bias = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    with no_library():
        check(conv2d_layer(X, weight, bias))
        check(conv2d_layer(X[:, :1], weight[:1, :1], bias[:1]))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: cost_and_memory
# points: 3

# %% [markdown]
# ## 3. What a convolution layer costs
#
# A layer has $c_i$ input channels of size $h \times w$, $c_o$ output channels, $k_h \times k_w$ kernels, one
# bias per output channel, and `padding` and `stride` as in `nn.Conv2d` (ints or pairs). For one example, count:
#
# * `multiplications` and `additions` in the forward pass (every product, and every addition needed to sum the
#   products of one output value and add its bias);
# * `parameters`: the learned numbers;
# * `forward_memory`: numbers held by the forward pass: the parameters, the (unpadded) input and the output;
# * `backward_memory`: the backward pass also holds one gradient for each of those.
#
# Write `conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1)` returning a dict with these five keys (ints,
# counting numbers, not bytes).

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_cost(c_i, c_o, k_h, k_w, h, w, padding=0, stride=1):
    # BEGIN SOLUTION
    (p_h, p_w) = (padding, padding) if isinstance(padding, int) else padding
    (s_h, s_w) = (stride, stride) if isinstance(stride, int) else stride
    m_h = (h + 2 * p_h - k_h) // s_h + 1
    m_w = (w + 2 * p_w - k_w) // s_w + 1
    outputs = c_o * m_h * m_w
    per_output = c_i * k_h * k_w
    parameters = c_o * per_output + c_o
    memory = parameters + c_i * h * w + outputs
    return {"multiplications": outputs * per_output, "additions": outputs * per_output, "parameters": parameters,
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
    check(cost, {"multiplications": 96, "additions": 96, "parameters": 27, "forward_memory": 57,
                 "backward_memory": 114})


# %%
# HIDDEN
def test_padding_and_stride(conv_cost):
    from grading.checks import check, no_library
    with no_library():
        check(conv_cost(3, 64, 3, 3, 224, 224, padding=1))
        check(conv_cost(64, 128, 3, 5, 56, 56, padding=2, stride=2))
        check(conv_cost(1, 6, 5, 5, 28, 28, padding=2))


# %%
# HIDDEN
def test_pairs_and_uneven_strides(conv_cost):
    from grading.checks import check, no_library
    with no_library():
        check(conv_cost(8, 4, 3, 2, 11, 10, padding=(1, 0), stride=(2, 3)))
        check(conv_cost(5, 7, 4, 4, 9, 9, padding=(0, 2), stride=(3, 1)))
        check(conv_cost(2, 2, 6, 6, 6, 6))   # kernel as large as the input


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: doubling
# points: 2

# %% [markdown]
# ## 4. Doubling the channels, doubling the padding
#
# Take a layer with `c` input and `c` output channels, square `k` by `k` kernels, a square `n` by `n` input,
# padding `padding` and stride 1. Write `doubling_factors(c, k, n, padding)` returning a dict with two pairs: for
# `"channels"`, the factors by which the forward multiplications and the forward memory (both as in question 3)
# grow when both channel counts double, and for `"padding"`, the same two factors when the padding doubles instead,
# everything else unchanged. The chapter says what doubling the channels does to the multiplications; the memory
# has parts that grow at different rates.

# %% [raw]
# # BEGIN SOLUTION

# %%
def doubling_factors(c, k, n, padding):
    # BEGIN SOLUTION
    def cost(channels, pad):
        counts = conv_cost(channels, channels, k, k, n, n, padding=pad)
        return counts["multiplications"], counts["forward_memory"]
    base = cost(c, padding)

    def growth(changed):
        return tuple(new / old for new, old in zip(changed, base))
    return {"channels": growth(cost(2 * c, padding)), "padding": growth(cost(c, 2 * padding))}
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_two_pairs_and_the_chapters_factor(doubling_factors):
    from grading.checks import check, no_library
    with no_library():
        factors = doubling_factors(16, 3, 32, 1)
    check(sorted(factors), ["channels", "padding"])
    check([len(factors["channels"]), len(factors["padding"])], [2, 2])
    check(factors["channels"][0], 4.0)   # the chapter: doubling both channel counts quadruples the work


# %%
# HIDDEN
def test_factors(doubling_factors):
    from grading.checks import check, no_library
    with no_library():
        check(doubling_factors(3, 5, 28, 2))
        check(doubling_factors(7, 7, 7, 0))
        check(doubling_factors(1, 1, 10, 3))
        check(doubling_factors(64, 3, 56, 1))
        check(doubling_factors(2, 5, 9, 4))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
