"""`monoir publish model|dataset`: write a complete Hub repo folder with its card, then upload it in one commit."""

from __future__ import annotations

import argparse

MODEL_EXAMPLES = """examples:
  monoir publish model --path runs/clip-b32 --repo-id me/ir-clip-b32 \\
      --results runs/clip-b32/eval/results.json --results runs/zeroshot-b32/results.json --dry-run
  monoir publish model --path runs/qwen-lora --repo-id me/ir-qwen2.5-vl-lora --results runs/qwen-eval/results.json

The token comes from HF_TOKEN or `hf auth login`; it is never printed or written. --dry-run writes the folder only.
"""
DATASET_EXAMPLES = """examples:
  monoir publish dataset --data monoir-rs --repo-id me/monoir-rs --dry-run
  monoir publish dataset --data monoir-rs --repo-id me/monoir-rs --include-restricted --include-raw

Fields whose upstream licence does not clearly allow redistribution are left out unless --include-restricted.
A dataset whose audit has hard failures is refused.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("publish", help="push a model or the dataset to the Hub with cards",
                                   description="Publish a model or the dataset to the Hugging Face Hub.")
    sub = parser.add_subparsers(dest="what", metavar="{model,dataset}", required=True)

    m = sub.add_parser("model", help="a PEFT adapter, transformers or open_clip checkpoint", epilog=MODEL_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("--path", required=True, help="training output folder (weights + monoir_training.json)")
    m.add_argument("--repo-id", required=True, help="Hub model repo, ORG/NAME")
    m.add_argument("--results", action="append", default=[], metavar="RESULTS_JSON",
                   help="results.json of an evaluation (repeatable); runs of the base model count as zero-shot")
    m.add_argument("--zero-shot", action="append", default=[], metavar="RESULTS_JSON",
                   help="results.json of the zero-shot base model (repeatable), for the Δ columns")
    m.add_argument("--dataset-id", help="Hub id of the dataset for card metadata (default: from the training "
                                        "run or results, else $MONOIR_RS_REPO)")
    m.add_argument("--base-model", help="Hub id of the base model (default: from the training run / adapter)")
    m.add_argument("--license", help="licence id for the card (default: other, same as the base model)")
    m.add_argument("--processor-from", help="copy the processor/tokenizer from this model id or folder")
    m.add_argument("--folder", help="where to write the repo folder (default: PATH.hub next to PATH)")
    m.add_argument("--private", action="store_true", help="create the repo as private")
    m.add_argument("--dry-run", action="store_true", help="write the folder and list what would be uploaded")
    m.set_defaults(func=run_model)

    d = sub.add_parser("dataset", help="the built dataset in the Hub layout", epilog=DATASET_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--data", required=True, help="built dataset folder (`monoir build --out DATA`)")
    d.add_argument("--repo-id", required=True, help="Hub dataset repo, ORG/NAME")
    d.add_argument("--include-restricted", action="store_true",
                   help="keep fields whose upstream licence does not clearly allow redistribution")
    d.add_argument("--include-raw", action="store_true", help="also upload the raw release (DATA/raw/)")
    d.add_argument("--folder", help="where to write the repo folder (default: DATA.hub next to DATA)")
    d.add_argument("--private", action="store_true", help="create the repo as private")
    d.add_argument("--dry-run", action="store_true", help="write the folder and list what would be uploaded")
    d.set_defaults(func=run_dataset)


def _report(out: dict) -> int:
    print(out["listing"])
    if out.get("commit_url"):
        print(f"uploaded in one commit: {out['commit_url']}")
    return 0


def run_model(args) -> int:
    from monoir_rs.publish.model import publish_model

    return _report(publish_model(
        args.path, args.repo_id, results=args.results, zero_shot=args.zero_shot, folder=args.folder,
        dry_run=args.dry_run, private=args.private, dataset_id=args.dataset_id, base_model=args.base_model,
        license=args.license, processor_from=args.processor_from))


def run_dataset(args) -> int:
    from monoir_rs.publish.dataset import publish_dataset

    return _report(publish_dataset(
        args.data, args.repo_id, folder=args.folder, dry_run=args.dry_run, private=args.private,
        include_restricted=args.include_restricted, include_raw=args.include_raw))
