# ## What your answers may use
#
# A question that asks you to write an operation yourself is graded on your answer: the functions its tests call
# and everything those use (your helpers and classes, the variables they read, the imports they need). There you
# may use tensor and array creation, indexing and slicing, arithmetic, reductions (`sum`, `max`, `mean`, ...),
# reshaping, `torch.stack`/`cat`, `matmul`/`@`/`einsum`, `torch.flip`, `torch.nn.functional.pad`, strides you
# compute yourself (`as_strided`, torch's or numpy's: the grader refuses a view outside the array), numpy's counterparts of
# these, plain Python with `math`, `itertools`, `functools` and `collections`, `print`, plots and progress bars, and
# any function or class of your own, whatever its methods are called. Anything else there (torch's convolution, `unfold` or pooling, SciPy, pandas, the book's
# helpers, `d2l`) costs the question, and so does code that runs text (`eval`, `exec`) until a person has read it.
# The check cell tells you at once, with the same message the grader gives. The rest of the notebook is yours:
# compare with `F.conv2d` in a cell of your own, `!pip install`, `?`, `help()`, `%timeit` and experiments never
# count against an answer.
