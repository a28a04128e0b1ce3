# %% [markdown]
# # Exercises: 1x1 convolution and convolution as matrix multiplication
#
# These exercises go with [chapter 5, *The 1x1 convolution*](../chapters/05_1x1_convolution.ipynb). Each
# question ends with a check cell: run it for immediate feedback from the public tests. Your notebook is graded
# later with more (hidden) tests, so make your functions correct in general, not just on the examples shown.
#
# Write each operation yourself, with indexing, reshapes and `torch.matmul`: inside your answers do not call
# torch's convolution, `unfold`/`fold` or pooling functions or the book's helpers (`book.conv`, `book.pool`,
# `book.shapes`, `book.cost`). The grader detects those calls and the test fails. Comparing your results with
# `torch.nn.functional.conv2d` or `unfold` in a cell of your own is a good idea.


# %% [markdown]
# STARTER allowed

# %%
import torch

# %% [raw]
# # BEGIN QUESTION
# name: conv1x1
# points: 2

# %% [markdown]
# ## 1. A 1x1 convolution is a matrix product
#
# A $1 \times 1$ convolution mixes channels at each pixel independently: it is a fully connected layer applied
# at every position. Write `conv1x1(X, K)` for `X` of shape $(c_i, h, w)$ and `K` of shape $(c_o, c_i, 1, 1)$
# with a single `torch.matmul` (no loop over pixels). Keep the dtype.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv1x1(X, K):
    # BEGIN SOLUTION
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return torch.matmul(K.reshape(c_o, c_i), X.reshape(c_i, h * w)).reshape(c_o, h, w)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_sum_and_difference(conv1x1):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(8.0).reshape(2, 2, 2)
    K = torch.tensor([[1.0, 1.0], [1.0, -1.0]]).reshape(2, 2, 1, 1)
    with no_library():
        Y = conv1x1(X, K)
    check(Y, [[[4.0, 6.0], [8.0, 10.0]], [[-4.0, -4.0], [-4.0, -4.0]]])


# %%
# HIDDEN
def test_many_channels(conv1x1):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(3 * 4 * 5, dtype=torch.float64).reshape(3, 4, 5).sin()
    K = torch.arange(6 * 3, dtype=torch.float64).reshape(6, 3, 1, 1).cos()
    with no_library():
        check(conv1x1(X, K))
        check(conv1x1(torch.arange(24).reshape(2, 3, 4), torch.tensor([[2, -1]]).reshape(1, 2, 1, 1)))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: im2col
# points: 3

# %% [markdown]
# ## 2. Windows as columns (im2col)
#
# For a kernel that is not $1 \times 1$, lay every window out as a column. Write `im2col(X, kernel_size)` for `X`
# of shape $(c_i, h, w)$ and `kernel_size` $(k_h, k_w)$: it returns a matrix of shape
# $(c_i k_h k_w,\; m_h m_w)$ whose column $i\,m_w + j$ holds the window whose top-left corner is $(i, j)$, read
# channel by channel, each channel row by row (the same layout as `torch.nn.functional.unfold`, which you may use
# to check your answer in a cell of your own).

# %% [raw]
# # BEGIN SOLUTION

# %%
def im2col(X, kernel_size):
    # BEGIN SOLUTION
    k_h, k_w = kernel_size
    c_i, h, w = X.shape
    m_h, m_w = h - k_h + 1, w - k_w + 1
    columns = [X[:, i:i + k_h, j:j + k_w].reshape(-1) for i in range(m_h) for j in range(m_w)]
    return torch.stack(columns, dim=1)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_one_channel(im2col):
    import torch
    from grading.checks import check, no_library
    with no_library():
        columns = im2col(torch.arange(9.0).reshape(1, 3, 3), (2, 2))
    check(columns, [[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]])


# %%
# HIDDEN
def test_channels_and_rectangles(im2col):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(2 * 4 * 5.0).reshape(2, 4, 5)
    with no_library():
        check(im2col(X, (2, 3)))
        check(im2col(X, (4, 1)))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: conv_matmul
# points: 3

# %% [markdown]
# ## 3. Convolution as one matrix product
#
# With `im2col`, a convolution with $c_o$ kernels is one matrix product. Write `conv2d_matmul(X, K)` for `X` of
# shape $(c_i, h, w)$ and `K` of shape $(c_o, c_i, k_h, k_w)$ (no padding, stride 1), returning the
# $(c_o, m_h, m_w)$ output. Check it against `torch.nn.functional.conv2d` in a cell of your own.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv2d_matmul(X, K):
    # BEGIN SOLUTION
    c_o, c_i, k_h, k_w = K.shape
    m_h, m_w = X.shape[1] - k_h + 1, X.shape[2] - k_w + 1
    return torch.matmul(K.reshape(c_o, -1), im2col(X, (k_h, k_w))).reshape(c_o, m_h, m_w)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_textbook_example(conv2d_matmul):
    import torch
    from grading.checks import check, no_library
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    K = torch.stack((K, K + 1, K + 2))
    with no_library():
        Y = conv2d_matmul(X, K)
    check(Y, [[[56.0, 72.0], [104.0, 120.0]], [[76.0, 100.0], [148.0, 172.0]], [[96.0, 128.0], [192.0, 224.0]]])


# %%
# HIDDEN
def test_random_layer(conv2d_matmul):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(3 * 7 * 6.0).reshape(3, 7, 6).sin()
    K = torch.arange(5 * 3 * 3 * 2.0).reshape(5, 3, 3, 2).cos()
    with no_library():
        check(conv2d_matmul(X, K))
        check(conv2d_matmul(X, K[:2, :, :2, :]))   # a 6 x 5 output


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: bottleneck
# points: 2

# %% [markdown]
# ## 4. What a 1x1 convolution saves
#
# Compare two designs on an `n` by `n` map with `c` channels, every convolution with a bias, stride 1, and the
# $3 \times 3$ ones padded so that the map keeps its size:
#
# * `"plain"`: one $3 \times 3$ convolution from `c` to `c` channels;
# * `"bottleneck"`: a $1 \times 1$ convolution from `c` to `c_mid` channels, a $3 \times 3$ one from `c_mid` to
#   `c_mid`, and a $1 \times 1$ one from `c_mid` back to `c` (activations have no parameters and cost nothing here).
#
# Write `bottleneck_cost(c, c_mid, n)` returning `{"plain": (parameters, multiply_adds), "bottleneck":
# (parameters, multiply_adds)}` for one example (ints; multiply-adds of the forward pass, bias additions not
# counted).

# %% [raw]
# # BEGIN SOLUTION

# %%
def bottleneck_cost(c, c_mid, n):
    # BEGIN SOLUTION
    def conv(c_in, c_out, k):
        return c_out * c_in * k * k + c_out, c_out * c_in * k * k * n * n
    layers = [conv(c, c_mid, 1), conv(c_mid, c_mid, 3), conv(c_mid, c, 1)]
    return {"plain": conv(c, c, 3), "bottleneck": tuple(sum(part) for part in zip(*layers))}
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_tiny_block(bottleneck_cost):
    from grading.checks import check, no_library
    with no_library():
        cost = bottleneck_cost(2, 1, 3)
    check(cost["plain"], (38, 324))


# %%
# HIDDEN
def test_resnet_sizes(bottleneck_cost):
    from grading.checks import check, no_library
    with no_library():
        check(bottleneck_cost(256, 64, 56))
        check(bottleneck_cost(2, 1, 3))
        check(bottleneck_cost(64, 16, 1))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: rounding
# points: 1

# %% [markdown]
# ## 5. Why the loop and the matrix product differ in the last bits
#
# In the chapter, the channel loop `Y1` and the matrix product `Y2` agree within $10^{-6}$ but are not
# bit-identical. Set `why_they_differ` to the letter of the true explanation:
#
# * `"a"`: the matrix product skips some channels to save time;
# * `"b"`: floating-point addition rounds every partial sum, so adding the same terms in another order can give a
#   slightly different result;
# * `"c"`: the matrix product converts the inputs to float16;
# * `"d"`: `torch.randn` draws different numbers for each call.
#
# Then write `float32_sums(big, small)` returning the pair `(dropped, kept)`: the values of
# $(\mathit{big} + \mathit{small}) - \mathit{big}$ and $(\mathit{big} - \mathit{big}) + \mathit{small}$, each
# computed in float32 (`torch.float32` tensors, or numpy's `float32`) in the order the brackets say, as Python
# floats. The chapter computes them for $10^8$ and $1$; the grader tries other numbers.

# %% [raw]
# # BEGIN SOLUTION

# %%
why_they_differ = "b"  # SOLUTION


def float32_sums(big, small):
    # BEGIN SOLUTION
    big, small = torch.tensor(big, dtype=torch.float32), torch.tensor(small, dtype=torch.float32)
    return ((big + small) - big).item(), ((big - big) + small).item()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_answer_types_and_the_chapters_numbers(why_they_differ, float32_sums):
    from grading.checks import check
    dropped, kept = float32_sums(1e8, 1.0)
    check([why_they_differ in ("a", "b", "c", "d"), type(dropped) in (int, float), type(kept) in (int, float)],
          [True, True, True])
    check([dropped, kept], [0.0, 1.0], atol=0, rtol=0)


# %%
# HIDDEN
def test_the_explanation_and_other_numbers(why_they_differ, float32_sums):
    from grading.checks import check
    check(why_they_differ)
    cases = [(2.0 ** 24, 1.0), (3e8, 20.0), (1e8, 5.0), (4096.0, 0.25), (1e7, 0.75), (-5e8, 24.0)]
    check([[float(value) for value in float32_sums(big, small)] for big, small in cases], atol=0, rtol=0)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
