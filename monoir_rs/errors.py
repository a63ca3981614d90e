"""Errors with messages meant for users: they name the item and say what to do."""


class UserError(Exception):
    """Bad input (missing file, unknown model/task, malformed record...). The CLI prints it without a traceback."""

