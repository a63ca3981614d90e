"""`external`: IR synthesis by any command run once per batch — how DiffV2IR (a research codebase, not a pip
package) plugs into the build.

The command template must contain `{in_dir}` and `{out_dir}`. For each batch the plug-in writes the RGB inputs
to `{in_dir}/NNNNNN.png`, runs the command (no shell; the template is split with `shlex`), and reads
`{out_dir}/NNNNNN.*` (png, jpg, jpeg, tif, tiff, bmp, webp) back, converted to mode "L". Items whose output is
missing after a run (or a failed/timed-out run) are retried, alone, up to `retries` times; then a UserError names
them and shows the end of the command's stderr. With `otsu_seg=true` it also writes `{in_dir}_seg/NNNNNN.png`,
an Otsu-threshold segmentation map of each input (DiffV2IR's second condition, paper §C.5).

DiffV2IR (Ran et al., arXiv:2503.19012; its code release has `infer.py --input DIR --output DIR`, which also
reads the segmentation maps from `DIR_seg/` and keeps file names) with the paper's §C.5 settings, run from
inside its checkout::

    monoir build --pool POOL --out DATA --ir-synth external \\
      --synth-opt otsu_seg=true --synth-opt timeout=7200 \\
      --synth-opt cmd="python infer.py --input {in_dir} --output {out_dir} --ckpt checkpoints/after_phase_2.ckpt \\
                       --steps 20 --resolution 512 --cfg-text 7.5 --cfg-image 1.5 --cfg-seg 1.5 --seed 1234"

(§C.5: `after_phase_2` checkpoint, k-diffusion Euler-ancestral sampler, 20 steps, 512 long side aligned to
multiples of 64, three-way CFG text 7.5 / image 1.5 / segmentation 1.5, seed 1234, Otsu segmentation map,
JPEG quality 95 outputs.) `settings()` records the command template, the resolved executable and every file
named in the command with their SHA-256, the output of `version_cmd` (default: `EXECUTABLE --version`), the
retry/timeout settings and the paper's DiffV2IR settings for reference.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from monoir_rs.errors import UserError
from monoir_rs.synth.base import open_rgb

OUTPUT_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")

# Paper §C.5, recorded with every external run so a report shows what a DiffV2IR command should apply.
DIFFV2IR_PAPER_SETTINGS = {
    "checkpoint": "after_phase_2", "sampler": "k-diffusion Euler ancestral", "steps": 20,
    "resolution": "512 long side, aligned to multiples of 64", "cfg_text": 7.5, "cfg_image": 1.5,
    "cfg_seg": 1.5, "seed": 1234, "segmentation": "Otsu threshold map", "output": "JPEG quality 95",
}


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@lru_cache(maxsize=64)
def _sha256_file(path: str, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file (cached per path and modification time)."""
    path = Path(path).resolve()
    return _sha256_file(str(path), path.stat().st_mtime_ns)


def otsu_threshold(gray: np.ndarray) -> int:
    """Otsu's threshold of an 8-bit image: the t maximising the between-class variance of {<= t} vs {> t}."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    p = hist / max(hist.sum(), 1.0)
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    denom = omega * (1.0 - omega)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_b = np.where(denom > 0, (mu[-1] * omega - mu) ** 2 / denom, 0.0)
    return int(np.argmax(sigma_b))


def otsu_map(rgb: Image.Image) -> Image.Image:
    """Binary (0/255) RGB segmentation map from Otsu's threshold of the luma, as DiffV2IR's seg condition."""
    gray = np.asarray(rgb.convert("L"))
    mask = np.where(gray > otsu_threshold(gray), 255, 0).astype(np.uint8)
    return Image.fromarray(mask).convert("RGB")


class ExternalSynth:
    """Runs `cmd` per batch; see the module docstring. Options arrive as strings from `--synth-opt k=v`."""

    name = "external"

    def __init__(self, cmd: str | None = None, retries: int = 2, timeout: float = 3600, batch_size: int = 64,
                 version_cmd: str | None = None, otsu_seg: bool | str = False, cwd: str | None = None):
        if not cmd or "{in_dir}" not in cmd or "{out_dir}" not in cmd:
            raise UserError("the external IR synthesizer needs a command with {in_dir} and {out_dir}, e.g. "
                            "--synth-opt cmd=\"python infer.py --input {in_dir} --output {out_dir}\"")
        self.cmd, self.retries, self.timeout = cmd, int(retries), float(timeout)
        self.batch_size, self.version_cmd = int(batch_size), version_cmd
        self.otsu_seg, self.cwd = _truthy(otsu_seg), cwd
        self.argv_template = shlex.split(cmd)
        exe = shutil.which(self.argv_template[0], path=None)
        if exe is None and not Path(self._in_cwd(self.argv_template[0])).is_file():
            raise UserError(f"external IR synthesizer: executable {self.argv_template[0]!r} of the command "
                            f"{cmd!r} was not found; install it or give its full path")
        self.executable = exe or str(Path(self._in_cwd(self.argv_template[0])).resolve())
        self._settings: dict | None = None

    def _in_cwd(self, p: str) -> Path:
        return Path(self.cwd, p) if self.cwd and not Path(p).is_absolute() else Path(p)

    def settings(self) -> dict:
        if self._settings is None:
            files = {}
            for tok in self.argv_template[1:]:
                if "{" not in tok and self._in_cwd(tok).is_file():
                    files[tok] = sha256_file(self._in_cwd(tok))
            # the user's version command, else the executable's own `--version` (e.g. "Python 3.11.9")
            argv = shlex.split(self.version_cmd) if self.version_cmd else [self.executable, "--version"]
            try:
                res = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=self.cwd)
                version = (res.stdout or res.stderr).strip()[:500] or None
            except (OSError, subprocess.TimeoutExpired) as err:
                version = f"unavailable: {err}"
            self._settings = {
                "name": self.name, "cmd": self.cmd, "cwd": self.cwd,
                "executable": self.executable, "executable_sha256": sha256_file(Path(self.executable)),
                "files_sha256": files, "version_cmd": self.version_cmd, "version": version,
                "retries": self.retries, "timeout_s": self.timeout, "batch_size": self.batch_size,
                "otsu_seg": self.otsu_seg, "diffv2ir_paper_settings": dict(DIFFV2IR_PAPER_SETTINGS),
            }
        return self._settings

    def __call__(self, rgb: Image.Image) -> Image.Image:
        return self.run_batch([rgb])[0]

    def run_batch(self, items: list) -> list[Image.Image]:
        """IR images (mode "L") for `items` (paths or PIL images), in order; in chunks of `batch_size`."""
        out: list[Image.Image] = []
        for start in range(0, len(items), max(1, self.batch_size)):
            out.extend(self._run_chunk(items[start:start + self.batch_size]))
        return out

    def _run_chunk(self, items: list) -> list[Image.Image]:
        images = [open_rgb(it) for it in items]
        results: dict[int, Image.Image] = {}
        pending = list(range(len(images)))
        log = ""
        for _attempt in range(self.retries + 1):
            if not pending:
                break
            with tempfile.TemporaryDirectory(prefix="monoir-synth-") as tmp:
                in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
                in_dir.mkdir()
                out_dir.mkdir()
                if self.otsu_seg:
                    Path(tmp, "in_seg").mkdir()
                for i in pending:
                    images[i].save(in_dir / f"{i:06d}.png")
                    if self.otsu_seg:
                        otsu_map(images[i]).save(Path(tmp, "in_seg", f"{i:06d}.png"))
                argv = [tok.format(in_dir=in_dir, out_dir=out_dir) for tok in self.argv_template]
                try:
                    res = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout,
                                         cwd=self.cwd)
                    log = f"exit status {res.returncode}; stderr: {res.stderr[-1500:]}"
                except subprocess.TimeoutExpired:
                    log = f"timed out after {self.timeout:g} s"
                except OSError as err:
                    raise UserError(f"external IR synthesizer could not run {self.cmd!r}: {err}") from err
                for i in list(pending):
                    found = next((out_dir / f"{i:06d}{ext}" for ext in OUTPUT_EXTS
                                  if (out_dir / f"{i:06d}{ext}").is_file()), None)
                    if found is None:
                        continue
                    try:
                        with Image.open(found) as im:
                            results[i] = im.convert("L")
                        pending.remove(i)
                    except (OSError, ValueError):
                        pass  # unreadable output: retried like a missing one
        if pending:
            names = [str(items[i]) if not isinstance(items[i], Image.Image) else f"#{i}" for i in pending[:5]]
            raise UserError(f"external IR synthesizer produced no readable output for {len(pending)} of "
                            f"{len(items)} images (e.g. {', '.join(names)}) after {self.retries + 1} attempts "
                            f"of {self.cmd!r}; last run: {log}. Fix the command, then re-run the build.")
        return [results[i] for i in range(len(images))]
