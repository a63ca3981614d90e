"""Errors with messages meant for users: they name the item and say what to do."""


class UserError(Exception):
    """Bad input (missing file, unknown model/task, malformed record...). The CLI prints it without a traceback."""


def run_command(func, args, on_interrupt: str) -> int:
    """Run a CLI command's `func(args)`: a UserError prints `error: ...` (exit 2), Ctrl-C prints `on_interrupt`
    (exit 130); any other exception keeps its traceback."""
    import sys

    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print(on_interrupt, file=sys.stderr)
        return 130
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
