"""Exceptions that reach the user.

Every error a user can cause (a bad path, an unknown option, a corrupt
bitstream) is a :class:`Vid1dError`; the CLI prints its message on one line and
exits non-zero. Anything else escaping is a bug in vid1d.
"""


class Vid1dError(Exception):
    """Base class for user-facing errors (one-line message, non-zero exit)."""


class InputError(Vid1dError):
    """Bad input: missing/unsupported file, inconsistent size or format, bad option."""


class BitstreamError(Vid1dError):
    """A .v1d bitstream is truncated, corrupt, unsupported or fails a CRC."""


class ExternalToolError(Vid1dError):
    """An external program (ffmpeg) failed; the message carries its last stderr line."""
