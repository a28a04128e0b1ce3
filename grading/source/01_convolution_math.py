# %% [markdown]
# # Exercises: the mathematics of convolution
#
# These exercises go with [chapter 1, *The mathematics of convolution*](../chapters/01_convolution_math.ipynb).
# Each question ends with a check cell: run it for immediate feedback from the public tests. Your notebook is
# graded later with more (hidden) tests, so make your functions correct in general, not just on the examples shown.
#
# The point of each question is to write the operation yourself: use tensors, indexing, elementwise operations
# and reductions, but inside your answers do not call torch's convolution, `unfold` or pooling functions,
# `numpy.convolve`, SciPy's signal functions, the book's helpers (`book.conv`, `book.pool`, `book.shapes`,
# `book.cost`) or `d2l.corr2d`. The grader detects such calls and the test fails. Checking your answer against
# them in a cell of your own is fine.


# %% [markdown]
# STARTER allowed

# %%
import torch

# %% [raw]
# # BEGIN QUESTION
# name: convolve1d
# points: 3

# %% [markdown]
# ## 1. Convolution of two sequences
#
# Write `convolve1d(x, w, mode="full")`, the (true, flipped) convolution of a 1D tensor `x` of length $n$ with a
# kernel `w` of length $k \le n$: output $t$ adds up the input at each time, weighted by the kernel's entry for
# how long ago it arrived (the chapter's delayed accumulation). The three `mode`s are those of `numpy.convolve`:
#
# * `"full"` (wide): every $t$ at which some input and some kernel entry meet;
# * `"valid"` (narrow): only the $t$ at which the kernel lies entirely inside the input;
# * `"same"`: $n$ outputs, taken from the full result starting at index $\lfloor (k-1)/2 \rfloor$.
#
# Keep the dtype: integer inputs give an integer output.

# %% [raw]
# # BEGIN SOLUTION

# %%
def convolve1d(x, w, mode="full"):
    # BEGIN SOLUTION
    n, k = len(x), len(w)
    y = torch.zeros(n + k - 1, dtype=torch.result_type(x, w))
    for lag in range(k):                  # the input that arrived `lag` steps ago, weighted by w[lag]
        y[lag:lag + n] += w[lag] * x
    if mode == "valid":
        return y[k - 1:n]
    if mode == "same":
        start = (k - 1) // 2
        return y[start:start + n]
    return y
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_echoes(convolve1d):
    import torch
    from grading.checks import check, no_library
    x = torch.tensor([1.0, 0, 0, 2, 0, 0, 0])
    with no_library():
        y = convolve1d(x, torch.tensor([1.0, 0.5, 0.25]))
    check(y, [1.0, 0.5, 0.25, 2.0, 1.0, 0.5, 0.0, 0.0, 0.0])


# %%
# HIDDEN
def test_three_modes_asymmetric_kernels(convolve1d):
    import torch
    from grading.checks import check, no_library
    x = torch.arange(9.0).sin()
    with no_library():
        for w in (torch.tensor([1.0, -2.0, 0.5]), torch.tensor([3.0, 1.0, -1.0, 0.25])):
            for mode in ("full", "valid", "same"):
                check(convolve1d(x, w, mode), case=f"mode {mode!r}, a kernel of {len(w)} and an input of {len(x)}")


# %%
# HIDDEN
def test_integers_and_edge_lengths(convolve1d):
    import torch
    from grading.checks import check, no_library
    x = torch.tensor([2, -1, 3, 0, 5])
    with no_library():
        check(convolve1d(x, torch.tensor([1, 2, 3]), "full"))
        check(convolve1d(x, torch.tensor([4, 0, -1, 1, 2]), "valid"))   # kernel as long as the input
        check(convolve1d(x, torch.tensor([4, 0, -1, 1, 2]), "same"))
        check(convolve1d(x.double(), torch.tensor([0.5], dtype=torch.float64), "valid"))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: filters
# points: 2

# %% [markdown]
# ## 2. Kernels that differentiate and smooth
#
# Give three kernels for your `convolve1d` with `mode="valid"` (1D float tensors):
#
# * `central_difference`: output $t$ is the central-difference estimate of the slope at the *middle* sample of
#   its window, half of (next sample minus previous sample);
# * `second_difference`: the second difference at the middle sample: next minus twice the middle plus previous;
# * `moving_average(k)`, a function: output $t$ is the mean of the $k$ samples in its window.

# %% [raw]
# # BEGIN SOLUTION

# %%
central_difference = torch.tensor([0.5, 0.0, -0.5])  # SOLUTION
second_difference = torch.tensor([1.0, -2.0, 1.0])  # SOLUTION


def moving_average(k):
    return torch.full((k,), 1.0 / k)  # SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_shapes_and_constants(central_difference, second_difference, moving_average):
    import torch
    from grading.checks import check
    kernels = [torch.as_tensor(k, dtype=torch.float64) for k in (central_difference, second_difference)]
    check([tuple(k.shape) for k in kernels], [(3,), (3,)])
    check([float(k.sum()) for k in kernels], [0.0, 0.0])       # a constant signal has no slope
    check(moving_average(4), [0.25, 0.25, 0.25, 0.25])


# %%
# HIDDEN
def test_on_a_sampled_curve(central_difference, second_difference, moving_average):
    import numpy as np
    import torch
    from grading.checks import check
    x = np.arange(12.0) ** 3 - 4 * np.arange(12.0)      # no symmetry to hide a flipped kernel
    kernels = {"central_difference": central_difference, "second_difference": second_difference,
               "moving_average(3)": moving_average(3), "moving_average(5)": moving_average(5),
               "moving_average(1)": moving_average(1)}
    for name, kernel in kernels.items():
        check(np.convolve(x, torch.as_tensor(kernel, dtype=torch.float64).numpy(), "valid"), case=name)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: output_shape
# points: 2

# %% [markdown]
# ## 3. Narrow, same and wide
#
# Write `corr2d_output_shape(input_shape, kernel_shape, mode="valid")` that returns the output shape (a tuple of
# two ints) of a 2D convolution or cross-correlation of an image of shape `input_shape` with a kernel of shape
# `kernel_shape`, for the three modes of the chapter (`"valid"`, `"same"`, `"full"`), from the shapes alone.
# Raise a `ValueError` when `mode="valid"` and the kernel is larger than the input in either direction.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_output_shape(input_shape, kernel_shape, mode="valid"):
    # BEGIN SOLUTION
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_shape
    if mode == "same":
        return (n_h, n_w)
    if mode == "full":
        return (n_h + k_h - 1, n_w + k_w - 1)
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
    cases = [((28, 28), (5, 5)), ((7, 3), (7, 1)), ((1, 9), (1, 9)), ((100, 64), (3, 11)), ((6, 7), (3, 2))]
    with no_library():
        for mode in ("valid", "same", "full"):
            check([corr2d_output_shape(*case, mode=mode) for case in cases], case=f"mode {mode!r}")
        check(corr2d_output_shape((2, 3), (5, 4), "full"))


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
# name: corr2d
# points: 2

# %% [markdown]
# ## 4. Cross-correlation
#
# Write `corr2d(X, K)`, the narrow (`"valid"`) 2D cross-correlation of a matrix `X` with a kernel `K`: the kernel
# is laid on the image as it is, not flipped. Keep the dtype: integer inputs give an integer output (a case
# `torch.nn.functional.conv2d` does not even accept on the CPU).

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
        check(corr2d(X, torch.tensor([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])))
        check(corr2d(X, torch.tensor([[2.0]])))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: convolve2d
# points: 2

# %% [markdown]
# ## 5. Convolution is cross-correlation with a rotated kernel
#
# Write `convolve2d(X, K, mode="valid")`, the true 2D convolution (the kernel flipped, as in the chapter), with
# `mode` `"valid"` or `"full"` as in `scipy.signal.convolve2d`, using your `corr2d` and zero padding. In `"full"`
# mode either argument may be the larger one. You may check your answer against SciPy in a cell of your own, but
# not inside `convolve2d`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def convolve2d(X, K, mode="valid"):
    # BEGIN SOLUTION
    if mode == "full":
        k_h, k_w = K.shape
        X = torch.nn.functional.pad(X, (k_w - 1, k_w - 1, k_h - 1, k_h - 1))
    return corr2d(X, torch.flip(K, dims=(0, 1)))
    # END SOLUTION


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


# %%
# HIDDEN
def test_wide_mode_commutes(convolve2d):
    import torch
    from grading.checks import check, no_library
    X = torch.arange(20).reshape(4, 5) % 6 - 2
    K = torch.tensor([[1, -2], [3, 0], [0, 5]])
    with no_library():
        check(convolve2d(X, K, "full"))
        check(convolve2d(K, X, "full"))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: wide_swap
# points: 1

# %% [markdown]
# ## 6. Swapping the arguments of a wide cross-correlation
#
# Wide convolution commutes; wide cross-correlation does not. Let `R` be the wide (`"full"`) cross-correlation of
# an image with a kernel. Write `swapped_wide_correlation(R)` that returns the wide cross-correlation of the
# *kernel* with the *image*, computed from `R` alone.

# %% [raw]
# # BEGIN SOLUTION

# %%
def swapped_wide_correlation(R):
    return torch.flip(R, dims=(0, 1))  # SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_small_example(swapped_wide_correlation):
    import torch
    from grading.checks import check, no_library
    # R: the wide cross-correlation of the image [[1, 2], [3, 4]] with the kernel [[1, -1]]
    R = torch.tensor([[-1.0, -1.0, 2.0], [-3.0, -1.0, 4.0]])
    with no_library():
        swapped = swapped_wide_correlation(R)
    check(tuple(swapped.shape), (2, 3))
    check(swapped, [[4.0, -1.0, -3.0], [2.0, -1.0, -1.0]])   # the kernel correlated with the image


# %%
# HIDDEN
def test_against_both_orders(swapped_wide_correlation):
    import scipy.signal
    import torch
    from grading.checks import check, no_library
    X = torch.arange(20.0).reshape(4, 5).sin()
    K = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    R = torch.as_tensor(scipy.signal.correlate2d(X.numpy(), K.numpy(), "full"))
    with no_library():
        check(swapped_wide_correlation(R))
        check(swapped_wide_correlation(R.T.contiguous()))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
