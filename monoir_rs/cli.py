"""`monoir` command line: a thin dispatcher. Each sub-command lives in `monoir_rs/commands/<name>.py`
(or `harness/cli.py` for `eval`) and exposes `register(subparsers)`, which adds its parser and sets
`func=run` on it. Modules are imported only for the command that runs, so `monoir --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from monoir_rs.console import run_command

# name -> (module, one-line help). Adding a command is one line here plus one module.
COMMANDS: dict[str, tuple[str, str]] = {
    "sample": ("monoir_rs.commands.sample", "write a synthetic RGB source pool in the five sources' layouts"),
    "build": ("monoir_rs.commands.build", "paper Algorithm 1: source pool -> IR corpus in the Hub layout"),
    "audit": ("monoir_rs.commands.audit", "integrity checks of a built dataset (exit 1 on hard failure)"),
    "tiny-model": ("harness.commands.tiny_model", "write a tiny random-weight model for offline tests"),
    "eval": ("harness.cli", "evaluate a model on MonoIR-RS tasks (same as monoir-eval)"),
    "compare": ("harness.commands.compare", "put results side by side with deltas (zero-shot vs fine-tuned)"),
    "tables": ("harness.commands.tables", "the paper's tables (retrieval per backbone, Tables 9/16) from several runs"),
    "convert": ("harness.commands.convert", "convert GeoChat / H2RSVLM (original LLaVA) checkpoints to llava-hf"),
    "train": ("monoir_rs.commands.train", "the paper's fine-tuning recipes: `train clip`, `train vlm`"),
    "instruct": ("monoir_rs.commands.instruct", "build the vlm_instruct config from the train split"),
    "publish": ("monoir_rs.commands.publish", "push a model or the dataset to the Hub with cards"),
    "realism": ("monoir_rs.commands.realism", "FID and grayscale-histogram distances to real infrared"),
}


def _lazy_parser(sub, name: str, help_text: str):
    """Register the command's real parser only when it is the one being run."""
    return sub.add_parser(name, help=help_text, add_help=False)


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monoir", description="MonoIR-RS: infrared remote-sensing vision-language corpus and tools.",
        epilog="Run `monoir COMMAND --help` for a command's options and examples.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (module, help_text) in COMMANDS.items():
        if name == wanted:
            importlib.import_module(module).register(sub)
        else:
            _lazy_parser(sub, name, help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if not argv else 2
    return run_command(args.func, args, "interrupted; finished work is kept and a re-run resumes from it")


if __name__ == "__main__":
    sys.exit(main())
