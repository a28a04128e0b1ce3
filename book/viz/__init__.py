"""Animations of a kernel sliding over an input, in three separately testable layers.

* `book.viz.frames`: the data of every step (canvas, windows, outputs, the arithmetic), from `book.conv`/`book.pool`.
* `book.viz.draw`: the SVG picture of one step, and a self-contained HTML player of all steps for static pages.
* `book.viz.widget`: the ipywidgets controls; `kernel_slider(...)` is the one call chapters use.
* `book.viz.gallery`: Dumoulin & Visin's guide case by case (`guide_player`) and the playground (`playground`).
* `book.viz.lenet_explorer`: inside a trained LeNet, layer by layer, and a digit the reader draws (`lenet_explorer`).

`book.viz.style` holds the book's plot set-up (`use_book_style`) and its annotated matrix figure (`show_matrix`).
"""
from book.viz.draw import render_message, render_player, render_step
from book.viz.frames import MODES, Frames, slide_frames
from book.viz.style import show_matrix, use_book_style
from book.viz.widget import KernelSlider, kernel_slider
from book.viz.gallery import GUIDE_CASES, guide_player, playground
from book.viz.lenet_explorer import LenetExplorer, lenet_explorer, pick_digits

__all__ = ["kernel_slider", "KernelSlider", "slide_frames", "Frames", "MODES", "render_step", "render_player",
           "render_message", "use_book_style", "show_matrix", "GUIDE_CASES", "guide_player", "playground",
           "lenet_explorer", "LenetExplorer", "pick_digits"]
