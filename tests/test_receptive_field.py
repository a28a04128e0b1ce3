"""`book.shapes.receptive_field` against a brute-force measurement: the input pixels that reach one output unit
through autograd, for random stacks of convolution and pooling layers."""
from __future__ import annotations

from typing import List, Tuple

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from book.shapes import ReceptiveField, receptive_field
from contracts import examples

INPUT_SIZE = 320  # more than twice the largest field the strategies below can build (1 + 3*3*(1+2+4+8) = 136)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def extent(mask: torch.Tensor) -> Tuple[int, int]:
    """First and last index where a 1-D boolean mask is true."""
    where = mask.nonzero().flatten()
    return int(where.min()), int(where.max())


def measure(net: nn.Module) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """(size, jump) of a network's receptive field, from the gradient of two neighbouring output units.

    All weights are 1 and all inputs 1, so every path adds a positive amount and no gradient cancels: an input
    pixel has a nonzero gradient exactly when it reaches the output unit.
    """
    x = torch.ones(1, 1, INPUT_SIZE, INPUT_SIZE, dtype=torch.float64, requires_grad=True)
    y = net(x)
    i, j = y.shape[2] // 2, y.shape[3] // 2
    starts, sizes = [], []
    for unit in ((i, j), (i + 1, j + 1)):
        (grad,) = torch.autograd.grad(y[(0, 0) + unit], x, retain_graph=True)
        rows, cols = extent(grad[0, 0].sum(dim=1) != 0), extent(grad[0, 0].sum(dim=0) != 0)
        assert min(rows[0], cols[0]) > 0 and max(rows[1], cols[1]) < INPUT_SIZE - 1, "field touches the border"
        starts.append((rows[0], cols[0]))
        sizes.append((rows[1] - rows[0] + 1, cols[1] - cols[0] + 1))
    assert sizes[0] == sizes[1]
    jump = (starts[1][0] - starts[0][0], starts[1][1] - starts[0][1])
    return sizes[0], jump


def ones_conv(kernel_size, stride, dilation, padding) -> nn.Conv2d:
    conv = nn.Conv2d(1, 1, kernel_size, stride=stride, dilation=dilation, padding=padding, bias=False,
                     dtype=torch.float64)
    nn.init.ones_(conv.weight)
    return conv


pairs = st.tuples(st.integers(1, 4), st.integers(1, 4))


@st.composite
def layer_stacks(draw) -> List[nn.Module]:
    """1 to 4 layers: convolutions (rectangular kernels, stride, dilation, padding) and average pooling."""
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        k = draw(pairs)
        s = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
        p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
        if draw(st.booleans()):
            d = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
            layers.append(ones_conv(k, s, d, p))
        else:  # average pooling spreads its gradient over the whole window, like a convolution of ones
            layers.append(nn.AvgPool2d(k, s, padding=p))
    return layers


@settings(max_examples=examples(80))
@given(layer_stacks())
def test_receptive_field_matches_autograd_measurement(layers: List[nn.Module]) -> None:
    size, jump = measure(nn.Sequential(*layers))
    assert receptive_field(layers) == ReceptiveField(size, jump)


@settings(max_examples=examples(50))
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4))
def test_tuples_mean_the_same_as_modules(layers: List[Tuple[int, int, int]]) -> None:
    as_ints = receptive_field(layers)
    assert isinstance(as_ints.size, int) and isinstance(as_ints.jump, int)
    # nn.Conv2d stores its arguments as pairs, so its answer is a pair; nn.MaxPool2d keeps the ints it was given
    convs = [nn.Conv2d(1, 1, k, stride=s, dilation=d) for k, s, d in layers]
    assert receptive_field(convs) == ReceptiveField((as_ints.size,) * 2, (as_ints.jump,) * 2)
    assert receptive_field([nn.MaxPool2d(k, stride=s, dilation=d) for k, s, d in layers]) == as_ints


def test_known_values() -> None:
    assert receptive_field([]) == ReceptiveField(1, 1)
    assert receptive_field([(3, 1)] * 3) == ReceptiveField(7, 1)          # three 3x3: 7x7
    assert receptive_field([(3, 1, 2 ** n) for n in range(5)]) == ReceptiveField(63, 1)  # doubling dilation
    assert receptive_field([(5,), (2, 2), (5,), (2, 2)]) == ReceptiveField(16, 4)  # LeNet's convs and pools
    assert receptive_field([((3, 1), 1)]) == ReceptiveField((3, 1), (1, 1))
    assert receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2))) == ReceptiveField((4, 4), (2, 2))


@pytest.mark.parametrize("layers, names", [
    ([nn.ReLU()], "has no kernel_size"),
    ([nn.ConvTranspose2d(1, 1, 3)], "transposed convolution"),
    ([3], "must be a module or a tuple"),
    ([(3, 1, 1, 1)], "must be a module or a tuple"),
    (["33"], "must be a module or a tuple"),
    ([(3, 0)], "layer 0 stride must be positive"),
    ([(3, 1), (0, 1)], "layer 1 kernel_size must be positive"),
])
def test_bad_layers_are_refused_in_one_line(layers, names: str) -> None:
    with pytest.raises(ValueError, match=names) as raised:
        receptive_field(layers)
    assert "\n" not in str(raised.value)
