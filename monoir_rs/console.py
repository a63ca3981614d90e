"""What every command line shares: running a command with user-facing errors, and quiet library output."""

from __future__ import annotations

import sys

from monoir_rs.errors import UserError


def quiet_libraries() -> None:
    """Turn off the progress bars datasets, transformers and huggingface_hub draw on their own."""
    import datasets
    import huggingface_hub.utils as hf_utils

    datasets.disable_progress_bars()
    hf_utils.disable_progress_bars()
    try:
        from transformers.utils import logging as tf_logging
    except ImportError:
        return
    tf_logging.disable_progress_bar()


def run_command(func, args, on_interrupt: str) -> int:
    """Run a CLI command's `func(args)`: a UserError prints `error: ...` (exit 2), Ctrl-C prints `on_interrupt`
    (exit 130); any other exception keeps its traceback. `--no-progress` also quiets the libraries' bars."""
    if getattr(args, "no_progress", False):
        quiet_libraries()
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print(on_interrupt, file=sys.stderr)
        return 130
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
