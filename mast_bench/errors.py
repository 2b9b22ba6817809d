"""One exception type for every mistake a user can make.

Command entry points catch :class:`UserError`, print its message (which names
the offending file, key or value and what was expected) and exit non-zero;
anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input: a missing file, a wrong layout, an unknown name, a bad config."""


class ConfigError(UserError, ValueError):
    """A configuration (TOML file or dataclass field) has a bad key or value."""


class DataError(UserError):
    """A dataset, mask, frame or results folder is missing or malformed."""


class CheckpointError(UserError):
    """A checkpoint cannot be read or does not fit the model."""
