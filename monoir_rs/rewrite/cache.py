"""Persistent cache of finished rewrites, so a restarted build never pays for a caption twice.

SQLite (stdlib, one file, safe across threads through one lock and across processes through SQLite's own
locking). Key: SHA-256 of the rewriter's settings (JSON, sorted keys) + the input (id, source caption, scene
class, the IR image's pixels or the RGB path). Only finished rewrites are stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path

from monoir_rs.errors import UserError


def default_cache_path() -> Path:
    """`$MONOIR_RS_CACHE/rewrites.sqlite`, else `~/.cache/monoir-rs/rewrites.sqlite`."""
    root = os.environ.get("MONOIR_RS_CACHE") or Path.home() / ".cache" / "monoir-rs"
    return Path(root) / "rewrites.sqlite"


def input_key(settings: dict, item) -> str:
    """Cache key of one RewriteInput under one rewriter configuration."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for part in (item.id, item.source_caption or "", item.scene_class or ""):
        h.update(b"\x00" + str(part).encode())
    img = item.ir_image
    if img is not None:
        h.update(b"\x00ir" + str((img.mode, img.size)).encode() + img.tobytes())
    else:
        h.update(b"\x00rgb" + str(item.rgb_path or "").encode())
    return h.hexdigest()


class RewriteCache:
    """get(key) -> text | None; put(key, text)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=60)
            self._db.execute("CREATE TABLE IF NOT EXISTS rewrites (key TEXT PRIMARY KEY, text TEXT NOT NULL)")
            self._db.commit()
        except (OSError, sqlite3.Error) as err:
            raise UserError(f"cannot open the rewrite cache {self.path}: {err}; pass --rewriter-opt cache=PATH "
                            "with a writable path") from err
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT text FROM rewrites WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, text: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO rewrites (key, text) VALUES (?, ?)", (key, text))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM rewrites").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
