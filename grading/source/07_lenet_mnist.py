# %% [markdown]
# # Exercises: LeNet on MNIST
#
# These exercises go with [chapter 7, *LeNet on MNIST*](../chapters/07_lenet_mnist.ipynb). Each question ends with
# a check cell: run it for immediate feedback from the public tests. Your notebook is graded later with more
# (hidden) tests, so make your functions correct in general, not just on the examples shown.
#
# LeNet, as the chapter builds it (`book.train.lenet()`, the modern form; the chapter trains it with a batch norm
# before each ReLU, which folds back into these layers after training): `Conv2d(1, 6, 5, padding=2)`, ReLU,
# `MaxPool2d(2, stride=2)`, `Conv2d(6, 16, 5)`, ReLU, `MaxPool2d(2, stride=2)`, `Flatten`, `Linear(16*5*5, 120)`,
# ReLU, `Linear(120, 84)`, ReLU, `Linear(84, 10)`, for $28 \times 28$ images. (d2l's `LeNet` has sigmoids and
# average pooling in the same places; LeCun et al.'s 1998 network differs more, as the chapter says.) Compute the
# answers of questions 1 to 3 from the layers' arguments, without building or running a network, and without the
# book's helpers (`book.shapes`, `book.cost`).


# %% [markdown]
# STARTER allowed

# %%
import torch
from torch import nn

from book.data import load_mnist

torch.manual_seed(0)
# 2000 training images, so that training takes seconds, and 1000 others to validate on (as `small.test_images`):
# the test set stays unseen, for the grader to judge your network on
small = load_mnist(test=False).validation_split(train=2000, validation=1000, seed=0)


def train(model, images, labels, epochs=2, lr=2e-3, batch_size=32, seed=0):
    """Adam on the cross-entropy loss, in shuffled mini-batches; returns the model."""
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    for _ in range(epochs):
        order = torch.randperm(len(labels))
        for start in range(0, len(labels), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss(model(images[batch]), labels[batch]).backward()
            optimizer.step()
    return model


def accuracy(model, images, labels):
    with torch.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


# %% [markdown]
# The baseline to beat: a multilayer perceptron with one hidden layer, trained on the same 2000 images.

# %%
torch.manual_seed(0)
mlp = train(nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 10)),
            small.train_images, small.train_labels, lr=1e-3)
mlp_accuracy = accuracy(mlp, small.test_images, small.test_labels)
print(f"MLP validation accuracy: {mlp_accuracy:.3f}")

# %% [raw]
# # BEGIN QUESTION
# name: parameter_count
# points: 2

# %% [markdown]
# ## 1. How many parameters?
#
# Write `lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28)`: the number of parameters
# (weights and biases) of LeNet with `c1` and `c2` channels in its two convolutions, hidden layers of `h1` and
# `h2` units, `classes` outputs, for square images of side `image_size` (the first `Linear` layer's input size
# depends on it).

# %% [raw]
# # BEGIN SOLUTION

# %%
def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    # BEGIN SOLUTION
    side = (image_size // 2 - 4) // 2
    convolutions = (c1 * 1 * 25 + c1) + (c2 * c1 * 25 + c2)
    dense = (c2 * side * side * h1 + h1) + (h1 * h2 + h2) + (h2 * classes + classes)
    return convolutions + dense
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lenet(lenet_parameter_count):
    from grading.checks import check, no_library
    with no_library():
        check(lenet_parameter_count(), 61706)


# %%
# HIDDEN
def test_other_widths_and_sizes(lenet_parameter_count):
    from grading.checks import check, no_library
    with no_library():
        check(lenet_parameter_count(8, 20, 100, 50, 10, 32))
        check(lenet_parameter_count(c1=4, c2=8, image_size=40))
        check(lenet_parameter_count(image_size=30))
        check(lenet_parameter_count(classes=26))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: output_shapes
# points: 2

# %% [markdown]
# ## 2. Shapes through the network
#
# Write `lenet_shapes(image_size=28)` that returns the output shape of each of LeNet's twelve layers for one
# square image of side `image_size`, without the batch axis: a list of twelve tuples, `(channels, height, width)`
# for the layers up to the second pooling, then `(features,)`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def lenet_shapes(image_size=28):
    # BEGIN SOLUTION
    n1 = image_size
    n2 = n1 // 2
    n3 = n2 - 4
    n4 = n3 // 2
    flat = 16 * n4 * n4
    return [(6, n1, n1), (6, n1, n1), (6, n2, n2), (16, n3, n3), (16, n3, n3), (16, n4, n4),
            (flat,), (120,), (120,), (84,), (84,), (10,)]
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_mnist_sized_images(lenet_shapes):
    from grading.checks import check, no_library
    with no_library():
        shapes = lenet_shapes()
    check(shapes[:7], [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5), (400,)])
    check(len(shapes), 12)


# %%
# HIDDEN
def test_larger_images(lenet_shapes):
    from grading.checks import check, no_library
    with no_library():
        check(lenet_shapes(32))
        check(lenet_shapes(30))   # odd sizes after the first pooling: floor, not ceil
        check(lenet_shapes(33))
        check(lenet_shapes())


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: batch_shape
# points: 2

# %% [markdown]
# ## 3. A batch through a strided convolution and a pooling layer
#
# A batch of shape `input_shape` $= (N, C, H, W)$ goes through `nn.Conv2d(C, out_channels, kernel_size,
# stride=stride, padding=padding)` and then, unless `pool` is `None`, through `nn.MaxPool2d(pool)` (stride `pool`,
# floor mode). Write `conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None)`
# returning the output shape as a tuple of four ints. The chapter halves a $60 \times 60$ batch both ways: with
# `padding=1, pool=2`, and as the source notes do, with `padding=1, stride=2`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    # BEGIN SOLUTION
    n, _, h, w = input_shape
    h, w = (h + 2 * padding - kernel_size) // stride + 1, (w + 2 * padding - kernel_size) // stride + 1
    if pool is not None:
        h, w = h // pool, w // pool
    return (n, out_channels, h, w)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_the_chapters_two_ways_to_halve(conv_pool_shape):
    from grading.checks import check, no_library
    with no_library():
        check(conv_pool_shape((7, 3, 60, 60), 10, 3, padding=1, stride=2), (7, 10, 30, 30))   # the source notes'
        check(conv_pool_shape((7, 3, 60, 60), 10, 3, padding=1, pool=2), (7, 10, 30, 30))


# %%
# HIDDEN
def test_strides_that_do_not_divide(conv_pool_shape):
    from grading.checks import check, no_library
    cases = [((5, 3, 61, 47), 8, 4, 0, 3, None), ((2, 1, 28, 28), 6, 5, 2, 2, None),
             ((3, 16, 9, 12), 4, 3, 1, 2, None), ((1, 3, 224, 224), 64, 7, 3, 2, None),
             ((4, 2, 10, 13), 5, 3, 0, 4, None)]
    with no_library():
        check([conv_pool_shape(*case) for case in cases])


# %%
# HIDDEN
def test_convolution_then_pooling(conv_pool_shape):
    from grading.checks import check, no_library
    cases = [((1, 1, 28, 28), 6, 5, 2, 1, 2), ((32, 6, 14, 14), 16, 5, 0, 1, 2), ((5, 3, 61, 47), 8, 4, 0, 1, 3),
             ((2, 16, 9, 12), 4, 3, 2, 1, 2), ((3, 2, 8, 8), 5, 8, 0, 1, 1), ((6, 3, 33, 35), 12, 3, 1, 2, 2)]
    with no_library():
        check([conv_pool_shape(*case) for case in cases])


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: beat_the_mlp
# points: 3

# %% [markdown]
# ## 4. A small CNN that beats the MLP
#
# Build a convolutional network `cnn` (an `nn.Module` with at least one `nn.Conv2d`) and train it with `train` on
# `small.train_images`, so that it classifies digits better than the MLP `mlp`. Keep it small: the training must
# take a few seconds on a laptop CPU (the grader stops a notebook after a minute).
#
# What earns the points: the tests take `cnn` as your notebook leaves it, switch it to `eval()` mode and, under
# `torch.no_grad()`, have it classify MNIST test images, which the notebook never loads: your check uses 1000 of
# them, the grader 2000 others, and the grader's run of your notebook cannot read the test set's labels. Each of the
# two tests gives half the points when `cnn` gets more of those images right than `mlp` does, and its convolutions
# earn the difference: with their weights set to zero, it no longer beats `mlp`. Accuracy on the validation images
# (printed below) earns nothing by itself, so a network that was never trained, or one that remembers the answers
# for the images the notebook loaded, scores 0.

# %% [raw]
# # BEGIN SOLUTION

# %%
# BEGIN SOLUTION
torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))
train(cnn, small.train_images, small.train_labels)
# END SOLUTION
print(f"CNN validation accuracy: {accuracy(cnn, small.test_images, small.test_labels):.3f}")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_beats_the_mlp_on_1000_test_images(cnn, mlp):
    import torch
    from book.data import MnistFileError, load_mnist, load_test_images
    from grading.checks import check, predicted_classes
    check(isinstance(cnn, torch.nn.Module) and any(isinstance(m, torch.nn.Conv2d) for m in cnn.modules()), True,
          case="cnn must be an nn.Module with an nn.Conv2d in it")
    chosen = torch.randperm(10_000, generator=torch.Generator().manual_seed(1))[:1000]
    images = load_test_images()[chosen]
    try:
        labels = load_mnist().test_labels[chosen]
        mlp_right = int((predicted_classes(mlp, images) == labels).sum())
        # To beat the MLP is to get at least one image more right than it does.
        context = {"labels": labels, "baseline": (mlp_right + 0.5) / len(labels)}
    except MnistFileError:   # a graded run: the grader judges with the labels its reference run recorded
        context = None
    check(predicted_classes(cnn, images), rule="beats_baseline", context=context)
    check(predicted_classes(cnn, images, zeroing=torch.nn.Conv2d), rule="stays_below_baseline", context=context,
          case="with its convolutions' weights set to zero, cnn must no longer beat the MLP")


# %%
# HIDDEN
def test_beats_the_mlp_on_2000_other_test_images(cnn, mlp):
    import torch
    from book.data import MnistFileError, load_mnist, load_test_images
    from grading.checks import check, predicted_classes
    check(isinstance(cnn, torch.nn.Module) and any(isinstance(m, torch.nn.Conv2d) for m in cnn.modules()), True,
          case="cnn must be an nn.Module with an nn.Conv2d in it")
    chosen = torch.randperm(10_000, generator=torch.Generator().manual_seed(1))[1000:3000]
    images = load_test_images()[chosen]
    try:
        labels = load_mnist().test_labels[chosen]
        mlp_right = int((predicted_classes(mlp, images) == labels).sum())
        # To beat the MLP is to get at least one image more right than it does.
        context = {"labels": labels, "baseline": (mlp_right + 0.5) / len(labels)}
    except MnistFileError:   # a graded run: the grader judges with the labels its reference run recorded
        context = None
    check(predicted_classes(cnn, images), rule="beats_baseline", context=context)
    check(predicted_classes(cnn, images, zeroing=torch.nn.Conv2d), rule="stays_below_baseline", context=context,
          case="with its convolutions' weights set to zero, cnn must no longer beat the MLP")


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
