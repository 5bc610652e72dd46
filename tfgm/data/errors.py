"""The one exception the data layer raises for bad input, and the tag that marks it inside a tf.data pipeline."""

import re

PIPELINE_TAG = "tfgm DataError:"
"""First item of the message of a tf.debugging.Assert that reports bad input from inside a pipeline."""


class DataError(ValueError):
    """A dataset could not be read: the message says what went wrong, where, and how to fix it."""


def from_pipeline(error):
    """The DataError a pipeline's tagged assertion (`PIPELINE_TAG`) reported in `error` (a TensorFlow error raised
    while iterating), or None when `error` is not one."""
    text = str(error)
    start = text.find(f"[{PIPELINE_TAG}]")
    if start < 0:
        return None
    line = text[start + len(PIPELINE_TAG) + 2:].split("\n", 1)[0]
    return DataError(" ".join(re.findall(r"\[([^\[\]]*)\]", line)))
