"""User-facing errors.

Every error a user can cause (bad files, impossible options, a checkpoint of
another model) is raised as a :class:`PyroVAEsError` whose message is one line
naming the problem and the fix. The command line prints that line and exits
with code 2; Python callers can catch the class.
"""


class PyroVAEsError(Exception):
    """Base class of all user-facing errors of the library."""


class DataError(PyroVAEsError):
    """A data file or directory is missing, corrupt or inconsistent."""


class ConfigError(PyroVAEsError):
    """An option or a combination of options is impossible."""


class CheckpointError(PyroVAEsError):
    """A checkpoint or run directory cannot be used as asked."""
