"""One atomic commit of a staged folder to the Hub, and the dry-run listing.

The token comes only from huggingface_hub's usual places (`HF_TOKEN`, the `hf auth login` /
`huggingface-cli login` file): it is never read into our own variables, printed or written. `HF_ENDPOINT`
is honoured even when huggingface_hub was imported before it was set.
"""

from __future__ import annotations

import os
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.publish.files import human, repo_files


def describe(folder: Path, repo_id: str, repo_type: str, card: Path, notes: list[str] = ()) -> str:
    """What a dry run prints: every file with its size, the total, notes, and (last) where the card is."""
    files = repo_files(folder)
    width = max((len(p) for p, _ in files), default=10)
    kind = "dataset" if repo_type == "dataset" else "model"
    lines = [f"dry run: would upload {len(files)} files ({human(sum(s for _, s in files))}) to {kind} repo "
             f"{repo_id} in one commit:"]
    lines += [f"  {p:<{width}}  {human(s):>9}" for p, s in files]
    lines += [f"note: {n}" for n in notes]
    lines += [f"repo folder: {folder}", f"card: {card}"]
    return "\n".join(lines)


def _api():
    from huggingface_hub import HfApi, constants

    if constants.is_offline_mode():
        raise UserError("HF_HUB_OFFLINE is set, so nothing can be uploaded; unset it, or use --dry-run to only "
                        "write the repo folder")
    endpoint = os.environ.get("HF_ENDPOINT") or None
    return HfApi(endpoint=endpoint.rstrip("/") if endpoint else None)


def _require_token() -> None:
    from huggingface_hub import get_token

    if not get_token():
        raise UserError("no Hugging Face token found; run `hf auth login` (or `huggingface-cli login`) or set "
                        "HF_TOKEN, then re-run (or use --dry-run to only write the repo folder)")


def preflight() -> None:
    """Fail fast (before any staging work) when an upload could not happen: offline mode or no token."""
    _api()
    _require_token()


def upload(folder: Path, repo_id: str, *, repo_type: str = "model", private: bool = False,
           message: str = "Upload with monoir publish", description: str = "") -> str:
    """`create_repo(exist_ok=True)` then one `create_commit` adding every staged file; returns the commit URL."""
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    api = _api()
    _require_token()
    folder = Path(folder)
    ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(folder / p)) for p, _ in repo_files(folder)]
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        info = api.create_commit(repo_id, ops, repo_type=repo_type, commit_message=message,
                                 commit_description=description)
    except HfHubHTTPError as err:
        status = getattr(getattr(err, "response", None), "status_code", "?")
        raise UserError(f"the Hub refused the upload to {repo_id} (HTTP {status}): {err.server_message or err}; "
                        f"check that your token has write access to that namespace") from err
    return str(info.commit_url)
