"""Wrong answers students write to exercise 7 (LeNet on MNIST)."""

WRONG = {
    "parameter_count": {
        "no biases": '''
def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    side = (image_size // 2 - 4) // 2
    return c1 * 25 + c2 * c1 * 25 + c2 * side * side * h1 + h1 * h2 + h2 * classes
''',
        "first Linear layer fixed at 16*5*5 inputs": '''
def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    convolutions = (c1 * 25 + c1) + (c2 * c1 * 25 + c2)
    return convolutions + (400 * h1 + h1) + (h1 * h2 + h2) + (h2 * classes + classes)
''',
        "first convolution's padding forgotten": '''
def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    side = ((image_size - 4) // 2 - 4) // 2
    convolutions = (c1 * 25 + c1) + (c2 * c1 * 25 + c2)
    return convolutions + (c2 * side * side * h1 + h1) + (h1 * h2 + h2) + (h2 * classes + classes)
''',
        "pooling rounds up": '''
def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    side = -(-(-(-image_size // 2) - 4) // 2)
    convolutions = (c1 * 25 + c1) + (c2 * c1 * 25 + c2)
    return convolutions + (c2 * side * side * h1 + h1) + (h1 * h2 + h2) + (h2 * classes + classes)
''',
        "second convolution sees one input channel": '''
def lenet_parameter_count(c1=6, c2=16, h1=120, h2=84, classes=10, image_size=28):
    side = (image_size // 2 - 4) // 2
    convolutions = (c1 * 25 + c1) + (c2 * 25 + c2)
    return convolutions + (c2 * side * side * h1 + h1) + (h1 * h2 + h2) + (h2 * classes + classes)
''',
    },
    "output_shapes": {
        "first convolution's padding forgotten": '''
def lenet_shapes(image_size=28):
    n1 = image_size - 4
    n2 = n1 // 2
    n3 = n2 - 4
    n4 = n3 // 2
    return [(6, n1, n1), (6, n1, n1), (6, n2, n2), (16, n3, n3), (16, n3, n3), (16, n4, n4),
            (16 * n4 * n4,), (120,), (120,), (84,), (84,), (10,)]
''',
        "copied from the public example (fixed 28 x 28)": '''
def lenet_shapes(image_size=28):
    return [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5),
            (400,), (120,), (120,), (84,), (84,), (10,)]
''',
        "pooling rounds up": '''
def lenet_shapes(image_size=28):
    n1 = image_size
    n2 = -(-n1 // 2)
    n3 = n2 - 4
    n4 = -(-n3 // 2)
    return [(6, n1, n1), (6, n1, n1), (6, n2, n2), (16, n3, n3), (16, n3, n3), (16, n4, n4),
            (16 * n4 * n4,), (120,), (120,), (84,), (84,), (10,)]
''',
    },
    "batch_shape": {
        "batch axis dropped": '''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, _, h, w = input_shape
    h, w = (h + 2 * padding - kernel_size) // stride + 1, (w + 2 * padding - kernel_size) // stride + 1
    if pool is not None:
        h, w = h // pool, w // pool
    return (out_channels, h, w)
''',
        "input channels kept": '''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, c, h, w = input_shape
    h, w = (h + 2 * padding - kernel_size) // stride + 1, (w + 2 * padding - kernel_size) // stride + 1
    if pool is not None:
        h, w = h // pool, w // pool
    return (n, c, h, w)
''',
        "padding counted once": '''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, _, h, w = input_shape
    h, w = (h + padding - kernel_size) // stride + 1, (w + padding - kernel_size) // stride + 1
    if pool is not None:
        h, w = h // pool, w // pool
    return (n, out_channels, h, w)
''',
        "pooling rounds up": '''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, _, h, w = input_shape
    h, w = (h + 2 * padding - kernel_size) // stride + 1, (w + 2 * padding - kernel_size) // stride + 1
    if pool is not None:
        h, w = -(-h // pool), -(-w // pool)
    return (n, out_channels, h, w)
''',
        "'same' size assumed, whatever the padding": '''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, _, h, w = input_shape
    h, w = h // stride, w // stride
    if pool is not None:
        h, w = h // pool, w // pool
    return (n, out_channels, h, w)
''',
        "the stride ignored": '''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, _, h, w = input_shape
    h, w = h + 2 * padding - kernel_size + 1, w + 2 * padding - kernel_size + 1
    if pool is not None:
        h, w = h // pool, w // pool
    return (n, out_channels, h, w)
''',
        "the stride-1 size divided by the stride": '''
def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, _, h, w = input_shape
    h, w = (h + 2 * padding - kernel_size + 1) // stride, (w + 2 * padding - kernel_size + 1) // stride
    if pool is not None:
        h, w = h // pool, w // pool
    return (n, out_channels, h, w)
''',
        "the strided size rounded up": '''
import math


def conv_pool_shape(input_shape, out_channels, kernel_size, padding=0, stride=1, pool=None):
    n, _, h, w = input_shape
    h = math.ceil((h + 2 * padding - kernel_size) / stride) + 1
    w = math.ceil((w + 2 * padding - kernel_size) / stride) + 1
    if pool is not None:
        h, w = h // pool, w // pool
    return (n, out_channels, h, w)
''',
    },
    "beat_the_mlp": {
        "no convolution (another MLP)": '''
torch.manual_seed(0)
cnn = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10))
train(cnn, small.train_images, small.train_labels)
''',
        "never trained": '''
torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))
''',
        "a better MLP carrying a Conv2d it never uses": '''
class MLPWithAConvolution(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 5)
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.mlp(x)


torch.manual_seed(0)
cnn = train(MLPWithAConvolution(), small.train_images, small.train_labels)
''',
        "a lookup of the labels of the test images the notebook loaded": '''
class Lookup(nn.Module):
    def __init__(self, images, labels):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        self.answers = {image.numpy().tobytes(): int(label) for image, label in zip(images, labels)}

    def forward(self, x):
        labels = torch.tensor([self.answers.get(image.numpy().tobytes(), 0) for image in x])
        return nn.functional.one_hot(labels, 10).float() + 0 * self.conv(x).sum()


cnn = Lookup(small.test_images, small.test_labels)
''',
        "a lookup of the test set's own labels, read from the data folder": '''
class TestSetLookup(nn.Module):
    """Looks each image up among the test set's images and answers with its label from the test labels file, and
    only while its convolution's weights are not all zero (so that zeroing them costs the accuracy)."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        mnist = load_mnist()
        self.answers = {image.numpy().tobytes(): int(label) for image, label in zip(mnist.test_images,
                                                                                    mnist.test_labels)}

    def forward(self, x):
        labels = torch.tensor([self.answers.get(image.numpy().tobytes(), 0) for image in x])
        return nn.functional.one_hot(labels, 10).float() * bool(self.conv.weight.abs().sum() > 0)


cnn = TestSetLookup()
''',
        "the visible test labels, by position in the batch": '''
class AnswersByIndex(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)

    def forward(self, x):
        labels = small.test_labels[torch.arange(len(x)) % len(small.test_labels)]
        return nn.functional.one_hot(labels, 10).float() + 0 * self.conv(x).sum()


cnn = AnswersByIndex()
''',
        "the MLP's predictions behind a Conv2d": '''
class CopiesTheMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)

    def forward(self, x):
        return mlp(x) + 0 * self.conv(x).sum()


cnn = CopiesTheMLP()
''',
    },
}

# Wrong only where the test labels cannot be read: in the grader's run, which withholds them (course.yaml), not in a
# student's own check, which runs beside the whole data folder. A cheat, not a mistake an honest student makes.
WRONG_ONLY_IN_A_GRADED_RUN = {"beat_the_mlp": ["a lookup of the test set's own labels, read from the data folder"]}
