"""User-facing errors.

Every error a user can cause (bad files, impossible options, a checkpoint of
another model) is raised as a :class:`PyroVAEsError` whose message is one line
naming the problem and the fix. The command line prints that line and exits
with the class's ``exit_code`` (2; 3 for a diverged run); Python callers can
catch the class.
"""


class PyroVAEsError(Exception):
    """Base class of all user-facing errors of the library."""

    exit_code = 2


class DataError(PyroVAEsError):
    """A data file or directory is missing, corrupt or inconsistent."""


class ConfigError(PyroVAEsError):
    """An option or a combination of options is impossible."""


class CheckpointError(PyroVAEsError):
    """A checkpoint or run directory cannot be used as asked."""


class TrainingDiverged(PyroVAEsError):
    """The training loss became NaN or infinite; the last good checkpoint is kept."""

    exit_code = 3


class TrainingInterrupted(KeyboardInterrupt):
    """Training was interrupted (Ctrl-C); the last completed checkpoint is kept.

    A ``KeyboardInterrupt``, so that code catching ``Exception`` does not swallow it; the
    command line prints its one-line message and exits with code 130.
    """

    exit_code = 130
