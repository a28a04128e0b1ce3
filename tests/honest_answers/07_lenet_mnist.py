"""Honest answers students write to exercise 7 (LeNet on MNIST): label -> variant."""

HONEST = {
    "parameter count from a list of layer shapes and math.prod": {
        "answers": ['''
import math


def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    side = ((image_size + 2 * 2 - 5 + 1) // 2 - 5 + 1) // 2     # after conv(pad 2), pool, conv, pool
    weight_shapes = [(c1, 1, 5, 5), (c2, c1, 5, 5), (h1, c2 * side * side), (h2, h1), (classes, h2)]
    biases = [c1, c2, h1, h2, classes]
    return sum(math.prod(shape) for shape in weight_shapes) + sum(biases)
'''],
        "after": ['''
print(lenet_parameter_count(), sum(p.numel() for p in nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)).parameters()))
'''],
    },
    "parameter count with helpers defined in an earlier cell, type hints and docstrings": {
        "before": ['''
def conv_params(c_in: int, c_out: int, k: int) -> int:
    """Weights and biases of nn.Conv2d(c_in, c_out, k)."""
    return c_out * c_in * k * k + c_out


def linear_params(n_in: int, n_out: int) -> int:
    """Weights and biases of nn.Linear(n_in, n_out)."""
    return n_in * n_out + n_out
'''],
        "answers": ['''
def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    assert image_size >= 12, "the image is too small for LeNet"
    n = image_size // 2          # conv1 keeps the size (padding 2), pool halves it
    n = (n - 4) // 2             # conv2 (5x5, no padding), pool
    return (conv_params(1, c1, 5) + conv_params(c1, c2, 5)
            + linear_params(c2 * n * n, h1) + linear_params(h1, h2) + linear_params(h2, classes))
'''],
        "after": ["help(lenet_parameter_count)", "import inspect\nprint(inspect.signature(lenet_parameter_count))"],
    },
    "shapes by walking a list of layer specifications": {
        "answers": ['''
def lenet_shapes(image_size=28):
    layers = [("conv", 6, 5, 2), ("relu",), ("pool", 2), ("conv", 16, 5, 0), ("relu",), ("pool", 2),
              ("flatten",), ("linear", 120), ("relu",), ("linear", 84), ("relu",), ("linear", 10)]
    shape = (1, image_size, image_size)
    shapes = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, channels, k, p = layer
            shape = (channels, shape[1] + 2 * p - k + 1, shape[2] + 2 * p - k + 1)
        elif kind == "pool":
            shape = (shape[0], shape[1] // layer[1], shape[2] // layer[1])
        elif kind == "flatten":
            shape = (shape[0] * shape[1] * shape[2],)
        elif kind == "linear":
            shape = (layer[1],)
        shapes.append(shape)            # relu keeps the shape
    return shapes
'''],
        "after": ['''
X = torch.zeros(1, 1, 32, 32)
for layer in nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5)):
    X = layer(X)
    print(layer.__class__.__name__, tuple(X.shape[1:]))
print(lenet_shapes(32)[:4])
'''],
    },
    "shapes with a plot of the feature-map sides in the answer cell": {
        "answers": ['''
import matplotlib.pyplot as plt


def lenet_shapes(image_size=28):
    side1 = image_size                 # conv 5x5, padding 2
    side2 = side1 // 2                 # 2x2 pooling, floor
    side3 = side2 - 5 + 1              # conv 5x5, no padding
    side4 = side3 // 2
    spatial = [(6, side1), (6, side1), (6, side2), (16, side3), (16, side3), (16, side4)]
    shapes = [(c, s, s) for c, s in spatial]
    shapes.append((16 * side4 * side4,))
    shapes += [(120,), (120,), (84,), (84,), (10,)]
    return shapes


sides = [shape[1] for shape in lenet_shapes()[:6]]
plt.plot(sides, "o-")
plt.xlabel("layer")
plt.ylabel("side of the feature map")
plt.show()
'''],
    },
    "batch shape with a helper defined in a later cell (cells run out of order)": {
        "answers": ['''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, c, h, w = input_shape
    h, w = conv_side(h, kernel_size, padding, stride), conv_side(w, kernel_size, padding, stride)
    if pool:
        h, w = h // pool, w // pool
    return (n, out_channels, h, w)
'''],
        "after": ['''
def conv_side(n, k, p, s):
    """Output side of a convolution: floor((n + 2p - k) / s) + 1."""
    return (n + 2 * p - k) // s + 1
''', "print(conv_pool_shape((7, 3, 60, 60), 10, 3, padding=1, stride=2))"],
    },
    "batch shape with asserts, math.floor and a check against real layers": {
        "answers": ['''
import math


def conv_pool_shape(input_shape: tuple, out_channels: int, kernel_size: int, padding: int = 0, stride: int = 1,
                    pool: int | None = None) -> tuple:
    assert len(input_shape) == 4, "expected (N, C, H, W)"
    N, C, H, W = input_shape
    H_out = math.floor((H + 2 * padding - kernel_size) / stride + 1)
    W_out = math.floor((W + 2 * padding - kernel_size) / stride + 1)
    if pool is None:
        return (N, out_channels, H_out, W_out)
    return (N, out_channels, math.floor(H_out / pool), math.floor(W_out / pool))
'''],
        "after": ['''
layers = nn.Sequential(nn.Conv2d(3, 8, 4, stride=2), nn.MaxPool2d(3))
print(tuple(layers(torch.zeros(5, 3, 61, 47)).shape), conv_pool_shape((5, 3, 61, 47), 8, 4, 0, 2, 3))
'''],
    },
    "batch shape by walking a list of (kernel, stride, padding) layers, the pooling as one more": {
        "answers": ['''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    layers = [(kernel_size, stride, padding)]
    if pool is not None:
        layers.append((pool, pool, 0))      # MaxPool2d(pool): a window of pool, stride pool, no padding
    n, _, h, w = input_shape
    for k, s, p in layers:
        h = (h + 2 * p - k) // s + 1
        w = (w + 2 * p - k) // s + 1
    return n, out_channels, h, w
'''],
        "after": ["print(conv_pool_shape((7, 3, 60, 60), 10, 3, padding=1, pool=2))"],
    },
    "a CNN class with its own forward, trained with the notebook's train": {
        "answers": ['''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


torch.manual_seed(0)
cnn = SmallCNN()
train(cnn, small.train_images, small.train_labels)
print(f"CNN test accuracy: {accuracy(cnn, small.test_images, small.test_labels):.3f} (MLP: {mlp_accuracy:.3f})")
'''],
    },
    "a Sequential CNN trained by a hand-written loop with tqdm, the loss plotted beside it": {
        "answers": ['''
from tqdm import tqdm

torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(16, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 6 * 6, 10))
optimizer = torch.optim.Adam(cnn.parameters(), lr=2e-3)
loss_fn = nn.CrossEntropyLoss()
losses = []
for epoch in tqdm(range(2)):
    order = torch.randperm(len(small.train_labels))
    for start in range(0, len(order), 32):
        batch = order[start:start + 32]
        optimizer.zero_grad()
        loss = loss_fn(cnn(small.train_images[batch]), small.train_labels[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
'''],
        "after": ['''
import matplotlib.pyplot as plt
plt.plot(losses)
plt.xlabel("step")
plt.ylabel("loss")
plt.show()
print(accuracy(cnn, small.test_images, small.test_labels), mlp_accuracy)
'''],
    },
    "one convolution, one pooling and a linear layer": {
        "answers": ['''
torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(16 * 14 * 14, 10))
train(cnn, small.train_images, small.train_labels)
'''],
    },
    "a LeNet-like CNN with batch norm and dropout, left in training mode (the tests switch it to eval mode)": {
        "answers": ['''
torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(16, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Dropout(0.3), nn.Linear(32 * 6 * 6, 10))
train(cnn, small.train_images, small.train_labels)
'''],
    },
}
