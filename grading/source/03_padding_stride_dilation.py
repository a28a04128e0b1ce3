# %% [markdown]
# # Exercises: padding, stride and dilation
#
# These exercises go with [chapter 3, *Padding, stride and dilation*](../chapters/03_padding_stride_dilation.ipynb).
# Each question ends with a check cell: run it for immediate feedback from the public tests. Your notebook is
# graded later with more (hidden) tests, so make your functions correct in general, not just on the examples shown.
#
# Conventions are PyTorch's: `padding` is the number of rows or columns added on *each* side; an argument that
# may be a pair is `(for rows, for columns)`. Write each operation yourself: inside your answers do not call
# torch's convolution, `unfold` or pooling functions or the book's helpers (`book.conv`, `book.pool`,
# `book.shapes`, `book.cost`). The grader detects those calls and the test fails. `torch.nn.functional.pad` is
# allowed.


# %% [markdown]
# STARTER allowed

# %%
import torch
import torch.nn.functional as F


# STARTER corr2d


def pair(value):
    """An int for both directions, or a pair (for rows, for columns)."""
    return (value, value) if isinstance(value, int) else tuple(value)


# %% [raw]
# # BEGIN QUESTION
# name: output_size
# points: 2

# %% [markdown]
# ## 1. The output size
#
# Write `conv_output_size(n, k, padding=0, stride=1, dilation=1)`: the number of outputs along one axis of
# length `n` for a kernel of size `k` (ints in, an int out). `padding` is an int (added on each side) or a pair
# `(before, after)` for uneven padding. Windows that would stick out of the padded input are dropped. Raise a
# `ValueError` when the (dilated) kernel does not fit in the padded input at all.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    # BEGIN SOLUTION
    before, after = pair(padding)
    span = n + before + after - dilation * (k - 1) - 1
    if span < 0:
        raise ValueError(f"a kernel of size {k} with dilation {dilation} does not fit in {n} + padding {padding}")
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


# %%
# HIDDEN
def test_dilation_stride_and_odd_sizes(conv_output_size):
    from grading.checks import check, no_library
    cases = [(28, 5, 2, 1, 1), (32, 3, 0, 2, 2), (7, 3, 1, 3, 1), (10, 4, 3, 3, 2), (5, 5, 0, 1, 1),
             (224, 7, 3, 2, 1), (8, 3, 0, 3, 1), (8, 5, 1, 4, 1), (9, 2, 0, 2, 4), (6, 1, 0, 4, 1)]
    with no_library():
        check([conv_output_size(*case) for case in cases])


# %%
# HIDDEN
def test_uneven_padding(conv_output_size):
    from grading.checks import check, no_library
    with no_library():
        check([conv_output_size(7, 3, (0, 1), 2), conv_output_size(10, 4, (2, 1), 3, 2),
               conv_output_size(7, 3, (0, 1)), conv_output_size(10, 4, (2, 1), 1, 2), conv_output_size(6, 3, (1, 0)),
               conv_output_size(4, 6, (1, 1)), conv_output_size(5, 2, (0, 0), 5)])


# %%
# HIDDEN
def test_too_large_kernel(conv_output_size):
    from grading.checks import check
    raised = []
    for case in [(3, 5, 0, 1, 1), (5, 3, 0, 1, 3), (4, 7, (1, 1), 1, 1)]:
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
# ## 2. Padding, stride and `padding_mode`
#
# Write `corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros")` for a matrix `X` and kernel `K`, with
# the meaning these arguments have in `nn.Conv2d`: `padding` and `stride` are ints or pairs, and the padding is
# filled with zeros, with copies of the edge value (`"replicate"`) or by wrapping around (`"circular"`). Keep the
# dtype of the inputs.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_padded(X, K, padding=0, stride=1, padding_mode="zeros"):
    # BEGIN SOLUTION
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    if padding_mode == "zeros":
        X = F.pad(X, (p_w, p_w, p_h, p_h))
    else:   # F.pad's other modes want a batch or channel axis in front
        X = F.pad(X[None], (p_w, p_w, p_h, p_h), mode=padding_mode)[0]
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
        check(corr2d_padded(X[:2, :3].float(), K.float(), stride=2))   # kernel as large as the input


# %%
# HIDDEN
def test_padding_modes(corr2d_padded):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(20.0).reshape(4, 5).cos()
    K = torch.tensor([[1.0, -1.0, 0.5], [2.0, 0.0, 1.0]])
    with no_library():
        check(corr2d_padded(X, K, padding=(1, 2), padding_mode="replicate"))
        check(corr2d_padded(X, K, padding=(2, 1), stride=(2, 1), padding_mode="circular"))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: dilation
# points: 2

# %% [markdown]
# ## 3. Dilation
#
# Write `corr2d_dilated(X, K, dilation=1)`: the cross-correlation (no padding, stride 1) with the kernel's taps
# spread out as `nn.Conv2d`'s `dilation` does (an int or a pair); `dilation=1` is the ordinary `corr2d`. Keep the
# dtype.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_dilated(X, K, dilation=1):
    # BEGIN SOLUTION
    d_h, d_w = pair(dilation)
    k_h, k_w = K.shape
    spread = torch.zeros(((k_h - 1) * d_h + 1, (k_w - 1) * d_w + 1), dtype=K.dtype)
    spread[::d_h, ::d_w] = K
    return corr2d(X, spread)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_dilation_two(corr2d_dilated):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(25.0).reshape(5, 5)
    with no_library():
        Y = corr2d_dilated(X, torch.tensor([[1.0, -1.0]]), dilation=2)
    check(Y, [[-2.0, -2.0, -2.0]] * 5)


# %%
# HIDDEN
def test_pairs_rectangles_integers(corr2d_dilated):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(63).reshape(7, 9) % 8 - 3
    K = torch.tensor([[1, 2, 0], [-1, 3, 1]])
    with no_library():
        check(corr2d_dilated(X, K, dilation=(3, 2)))
        check(corr2d_dilated(X, K, dilation=(2, 4)))    # the dilated kernel spans all nine columns
        check(corr2d_dilated(X.double().sin(), K.double(), dilation=1))
        check(corr2d_dilated(X.double().cos(), K.double().T, dilation=3))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: groups
# points: 2

# %% [markdown]
# ## 4. Groups and depthwise convolution
#
# Write `conv2d_parameter_count(in_channels, out_channels, kernel_size, groups=1, bias=True)`: the number of
# learned numbers in an `nn.Conv2d` with those arguments (`kernel_size` an int or a pair), without building the
# layer. Raise a `ValueError` when `groups` does not divide both channel counts, as PyTorch does.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv2d_parameter_count(in_channels, out_channels, kernel_size, groups=1, bias=True):
    # BEGIN SOLUTION
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide {in_channels} and {out_channels}")
    k_h, k_w = pair(kernel_size)
    return out_channels * (in_channels // groups) * k_h * k_w + (out_channels if bias else 0)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_ordinary_layer(conv2d_parameter_count):
    from grading.checks import check, no_library
    with no_library():
        check(conv2d_parameter_count(3, 16, 3), 448)


# %%
# HIDDEN
def test_groups_depthwise_and_no_bias(conv2d_parameter_count):
    from grading.checks import check, no_library
    cases = [(32, 64, 3, 4, True), (32, 32, 3, 32, True), (32, 64, (1, 5), 32, False), (12, 18, (3, 2), 3, True),
             (8, 8, 1, 1, False), (6, 12, 5, 6, True)]
    with no_library():
        check([conv2d_parameter_count(*case) for case in cases])


# %%
# HIDDEN
def test_groups_must_divide(conv2d_parameter_count):
    from grading.checks import check
    raised = []
    for case in [(6, 8, 3, 4), (8, 6, 3, 4), (3, 3, 1, 2)]:
        try:
            conv2d_parameter_count(*case)
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
# name: transposed
# points: 3

# %% [markdown]
# ## 5. Transposed convolution
#
# Write `conv_transpose2d(X, K, stride=1, padding=0)` for a matrix `X` and a kernel `K`: every input element
# multiplies the whole kernel and adds it into the output at a position that moves by `stride`; `padding` then
# works as in `nn.ConvTranspose2d`. `stride` and `padding` are ints or pairs. Keep the dtype.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_transpose2d(X, K, stride=1, padding=0):
    # BEGIN SOLUTION
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    (n_h, n_w), (k_h, k_w) = X.shape, K.shape
    Y = torch.zeros(((n_h - 1) * s_h + k_h, (n_w - 1) * s_w + k_w), dtype=torch.result_type(X, K))
    for i in range(n_h):
        for j in range(n_w):
            Y[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] += X[i, j] * K
    return Y[p_h:Y.shape[0] - p_h, p_w:Y.shape[1] - p_w]
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_textbook_example(conv_transpose2d):
    import torch
    from grading.checks import check, no_library
    X = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    with no_library():
        Y = conv_transpose2d(X, X)
    check(Y, [[0.0, 0.0, 1.0], [0.0, 4.0, 6.0], [4.0, 12.0, 9.0]])


# %%
# HIDDEN
def test_stride_padding_rectangles(conv_transpose2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(12.0).reshape(3, 4).sin()
    K = torch.tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
    with no_library():
        check(conv_transpose2d(X, K, stride=2))
        check(conv_transpose2d(X, K, stride=(3, 2), padding=(1, 0)))
        check(conv_transpose2d(X, K, stride=2, padding=1))


# %%
# HIDDEN
def test_integers(conv_transpose2d):
    import torch
    from grading.checks import check, no_library
    with no_library():
        check(conv_transpose2d(torch.tensor([[1, -2, 3]]), torch.tensor([[2, 1], [0, -1]]), stride=(1, 3)))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: transposed_size
# points: 1

# %% [markdown]
# ## 6. Undoing a strided convolution's shape
#
# An `nn.Conv2d` with kernel size `k`, stride `s` and padding `p` maps a side of length `n` to `m` (floor mode).
# `nn.ConvTranspose2d(..., k, stride=s, padding=p, output_padding=o)` maps `m` back. Write
# `output_padding_for(n, k, s, p)`: the `output_padding` that makes the transposed convolution return exactly `n`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def output_padding_for(n, k, s, p):
    # BEGIN SOLUTION
    m = (n + 2 * p - k) // s + 1
    return n - ((m - 1) * s - 2 * p + k)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_seven_and_eight(output_padding_for):
    from grading.checks import check, no_library
    with no_library():
        check([output_padding_for(7, 3, 2, 1), output_padding_for(8, 3, 2, 1)], [0, 1])


# %%
# HIDDEN
def test_many_layers(output_padding_for):
    from grading.checks import check, no_library
    cases = [(28, 5, 2, 2), (32, 4, 3, 1), (10, 3, 1, 1), (17, 2, 4, 0), (9, 9, 1, 0), (64, 7, 3, 3), (31, 1, 3, 0)]
    with no_library():
        check([output_padding_for(*case) for case in cases])


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
