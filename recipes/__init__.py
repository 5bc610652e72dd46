"""The recipes: one experiment per module, `python -m recipes.<name>` (README.md, BUILD.md)."""

import tfgm  # noqa: F401  (before TensorFlow: its oneDNN kernels on every x86 CPU)
