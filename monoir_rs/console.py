"""What every command line shares: running a command with user-facing errors, and quiet library output."""

from __future__ import annotations

import os
import sys

from monoir_rs.errors import UserError


def quiet_libraries() -> None:
    """Turn off the progress bars datasets, transformers and huggingface_hub draw on their own: environment
    variables for the libraries not imported yet (no import cost at start-up), their switches for the rest."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers follows huggingface_hub
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    if "datasets" in sys.modules:
        sys.modules["datasets"].disable_progress_bars()
    if "huggingface_hub" in sys.modules:
        import huggingface_hub.utils as hf_utils

        hf_utils.disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as tf_logging

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
