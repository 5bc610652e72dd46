"""The one exception the data layer raises for bad input."""


class DataError(ValueError):
    """A dataset could not be read: the message says what went wrong, where, and how to fix it."""
