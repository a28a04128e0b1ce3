"""The one place that asks whether the code runs under IPython, and whether that IPython is a Jupyter kernel."""
from __future__ import annotations

from typing import Any, Optional

__all__ = ["ipython_shell", "in_kernel"]


def ipython_shell() -> Optional[Any]:
    """The running IPython shell, or None in plain Python (IPython not installed, or not running)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def in_kernel() -> bool:
    """True inside a Jupyter kernel (a notebook, JupyterLab, nbclient), False in a terminal IPython or plain Python."""
    shell = ipython_shell()
    return shell is not None and "IPKernelApp" in shell.config
