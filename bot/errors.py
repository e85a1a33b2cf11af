"""Errors that stop start-up with one clear line instead of a traceback."""


class StartupError(Exception):
    """Something outside the code is not ready (catalogs, database); the message says what."""
