"""Synthetic-IR realism metrics (paper §3.1 Table 2, Appendix A.3 eq. 13–17, §C.6).

Histogram metrics (eq. 14–17): each image set's grayscale histogram has 256 bins over [0, 255] (one bin per
8-bit level), pooled over all pixels of all images of the set and normalised to sum 1. Images that are not
single-channel are converted with ITU-R BT.601 luma (PIL "L"), so pointing `--baseline` at the visible RGB
images *is* the paper's RGB-to-gray baseline. With p = the real-IR histogram and q = the compared set's,
ε = 1e-10 (`EPS`) and natural logarithms:
  KL = Σ p log((p+ε)/(q+ε)) (i.e. KL(real ‖ set)), JS = ½KL(p‖m) + ½KL(q‖m) with m = (p+q)/2,
  χ² = ½ Σ (p−q)² / (p+q+ε), HI = Σ min(p, q).

FID (eq. 13): torchvision Inception-v3 with IMAGENET1K_V1 weights, classifier head removed (`fc` =
identity → 2048-d pooled features), `transform_input=True` as torchvision sets it for those weights; each image
is converted to grayscale, replicated to 3 channels, resized to 299×299 (bilinear, antialiased) and normalised
with ImageNet mean/std. FID = ‖μx−μy‖² + Tr(Σx + Σy − 2(ΣxΣy)^½) with `scipy.linalg.sqrtm` (in the span of the features when there are fewer images than dimensions: exact, see
`fid_from_features`). Weights come from
`--inception-weights PATH` (a state dict: .pth/.pt read with `weights_only=True`, or .safetensors) or from
torchvision's cache (`$TORCH_HOME/hub/checkpoints/inception_v3_google-0cc3c7bd.pth`); nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from monoir_rs.errors import UserError

EPS = 1e-10
BINS = 256
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"  # torchvision's IMAGENET1K_V1 file name
METRIC_KEYS = ("fid", "kl", "js", "chi2", "hi")


def list_images(folder) -> list[Path]:
    """Image files under `folder` (recursive, sorted); UserError when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file())
    if not files:
        raise UserError(f"{folder} has no images ({', '.join(IMAGE_EXTS)})")
    return files


def _open_gray(path: Path) -> Image.Image:
    try:
        with Image.open(path) as im:
            return im.convert("L")
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read image {path}: {err}; remove it or fix it") from err


# ---------------------------------------------------------------- histograms (eq. 14–17)


def gray_histogram(files, progress: bool = False) -> np.ndarray:
    """Pooled 256-bin counts of the 8-bit gray levels of all pixels of `files`."""
    counts = np.zeros(BINS, dtype=np.int64)
    for f in _progress(files, progress, "histograms"):
        counts += np.bincount(np.asarray(_open_gray(f)).ravel(), minlength=BINS)
    return counts


def normalize(counts) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        raise ValueError("empty histogram")
    return counts / total


def kl(p, q, eps: float = EPS) -> float:
    """Eq. 14: Σ p log((p+ε)/(q+ε))."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    return float(np.sum(p * np.log((p + eps) / (q + eps))))


def js(p, q, eps: float = EPS) -> float:
    """Eq. 15: ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    m = (p + q) / 2
    return 0.5 * kl(p, m, eps) + 0.5 * kl(q, m, eps)


def chi2(p, q, eps: float = EPS) -> float:
    """Eq. 16: ½ Σ (p−q)² / (p+q+ε)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    return float(0.5 * np.sum((p - q) ** 2 / (p + q + eps)))


def hist_intersection(p, q) -> float:
    """Eq. 17: Σ min(p, q)."""
    return float(np.sum(np.minimum(np.asarray(p, np.float64), np.asarray(q, np.float64))))


def histogram_metrics(p_real, q_set, eps: float = EPS) -> dict:
    """{kl, js, chi2, hi} between the real histogram p and a compared set's q (both normalised)."""
    return {"kl": kl(p_real, q_set, eps), "js": js(p_real, q_set, eps), "chi2": chi2(p_real, q_set, eps),
            "hi": hist_intersection(p_real, q_set)}


# ---------------------------------------------------------------- FID (eq. 13)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½) with `scipy.linalg.sqrtm`, as pytorch-fid: a tiny diagonal offset
    when the root is not finite; imaginary round-off dropped when below 1e-3 of the diagonal's scale."""
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        # round-off on (near-)singular products; judged relative to the matrix scale (features may be large)
        scale = max(1.0, float(np.abs(np.diagonal(covmean).real).max()))
        if np.abs(np.diagonal(covmean).imag).max() > 1e-3 * scale:
            raise ValueError(f"sqrtm has a large imaginary part ({np.abs(covmean.imag).max():.3g})")
        covmean = covmean.real
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def fid_from_features(x: np.ndarray, y: np.ndarray) -> float:
    """Eq. 13 from two feature matrices (N, D).

    When N_x + N_y ≤ D (e.g. 804 + 804 images vs 2048 features) both covariances live in the span of the
    centred features, so the traces are computed in an orthonormal basis of that span (rank r ≤ N_x + N_y − 2):
    FID is invariant under orthogonal changes of basis and the rest of the space holds zero variance for both
    sets, so this is exact, and `sqrtm` runs on r×r instead of D×D matrices. ‖Δμ‖² stays in the full space."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    mx, my = x.mean(axis=0), y.mean(axis=0)
    if len(x) + len(y) > x.shape[1]:
        return frechet_distance(mx, np.cov(x, rowvar=False), my, np.cov(y, rowvar=False))
    centred = np.concatenate([x - mx, y - my], axis=0)
    u, sv, _ = np.linalg.svd(centred.T, full_matrices=False)
    basis = u[:, sv > sv.max() * 1e-10] if sv.size and sv.max() > 0 else u[:, :0]
    xp, yp = (x - mx) @ basis, (y - my) @ basis
    sx = np.atleast_2d(xp.T @ xp / max(len(x) - 1, 1))
    sy = np.atleast_2d(yp.T @ yp / max(len(y) - 1, 1))
    diff = mx - my
    return float(diff @ diff) + frechet_distance(np.zeros(basis.shape[1]), sx, np.zeros(basis.shape[1]), sy)


def default_inception_path() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def load_inception(weights: str | os.PathLike | None = None, device: str = "cpu"):
    """torchvision Inception-v3 (IMAGENET1K_V1 layout) with `fc` = identity, in eval mode on `device`."""
    import torch
    from torchvision.models import inception_v3

    path = Path(weights) if weights else default_inception_path()
    if not path.is_file():
        raise UserError(
            f"Inception-v3 weights not found at {path}. FID needs torchvision's IMAGENET1K_V1 weights: on a "
            "machine with network run `python -c \"import torchvision; torchvision.models.inception_v3("
            "weights='IMAGENET1K_V1')\"` (fills torchvision's cache) or download "
            f"https://download.pytorch.org/models/{INCEPTION_FILE} and pass --inception-weights PATH; "
            "or use --no-fid for the histogram metrics only.")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    model = inception_v3(weights=None, aux_logits=True, transform_input=True, init_weights=False)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise UserError(f"{path} is not an Inception-v3 state dict matching torchvision's: {err}") from err
    model.fc = torch.nn.Identity()
    return model.eval().to(device)


def inception_transform():
    """§C.6 preprocessing: grayscale → 3 channels → 299×299 → tensor → ImageNet normalisation."""
    from torchvision import transforms

    return transforms.Compose([
        transforms.Grayscale(num_output_channels=3),
        transforms.Resize((299, 299), interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def inception_features(files, model, device: str = "cpu", batch_size: int = 32,
                       progress: bool = False) -> np.ndarray:
    """(N, 2048) pooled features of `files`."""
    import torch

    tf = inception_transform()
    feats = []
    batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
    with torch.inference_mode():
        for batch in _progress(batches, progress, "inception"):
            x = torch.stack([tf(_open_gray(f)) for f in batch]).to(device)
            out = model(x)
            out = out.logits if hasattr(out, "logits") else out
            feats.append(out.float().cpu().numpy())
    return np.concatenate(feats, axis=0)


# ---------------------------------------------------------------- the comparison (Table 2)


def realism(real, synthetic, baseline=None, fid: bool = True, inception_weights=None, device: str = "cpu",
            batch_size: int = 32, progress: bool = False) -> dict:
    """Table 2: FID and histogram distances of `synthetic` (and `baseline`) to the `real` IR set."""
    sets = {"real": real, "synthetic": synthetic}
    if baseline:
        sets["baseline"] = baseline
    files = {k: list_images(v) for k, v in sets.items()}
    model = load_inception(inception_weights, device) if fid else None
    p_real = normalize(gray_histogram(files["real"], progress))
    real_feats = inception_features(files["real"], model, device, batch_size, progress) if fid else None
    out: dict = {"real": {"dir": str(real), "n": len(files["real"]), "histogram": p_real.tolist()},
                 "settings": {"eps": EPS, "bins": BINS, "range": [0, 255], "log": "natural",
                              "kl_direction": "KL(real || set)", "histogram": "pooled over all pixels of a set",
                              "fid": ("torchvision Inception-v3 IMAGENET1K_V1 pool features (2048-d); grayscale "
                                      "-> 3 channels -> 299x299 -> ImageNet normalisation") if fid else None,
                              "inception_weights": str(inception_weights or default_inception_path()) if fid
                              else None}}
    for name in ("synthetic", "baseline"):
        if name not in files:
            continue
        q = normalize(gray_histogram(files[name], progress))
        row = {"dir": str(sets[name]), "n": len(files[name]), "fid": None, **histogram_metrics(p_real, q),
               "histogram": q.tolist()}
        if fid:
            feats = inception_features(files[name], model, device, batch_size, progress)
            row["fid"] = fid_from_features(real_feats, feats)
        out[name] = row
    if fid and min(len(f) for f in files.values()) < 2048:
        out["settings"]["note"] = ("fewer images than feature dimensions (2048): the covariances are rank-"
                                   "deficient; compare FIDs only at equal set sizes")
    return out


LABELS = {"synthetic": "Synthetic IR", "baseline": "RGB-to-gray baseline"}


def plot(result: dict, path) -> Path:
    """The normalised histograms of the real set and each compared set, overlaid (PNG)."""
    from monoir_rs.plots import histograms

    curves = {f"Real IR (n={result['real']['n']})": result["real"]["histogram"]}
    curves.update({f"{label} (n={result[k]['n']})": result[k]["histogram"] for k, label in LABELS.items()
                   if k in result})
    return histograms(curves, path)


def format_table(result: dict) -> str:
    """Table 2's layout: one row per compared set."""
    head = f"{'vs. Real IR':<28}{'FID ↓':>10}{'KL ↓':>10}{'JS ↓':>10}{'χ² ↓':>10}{'Hist. inter. ↑':>16}"
    lines = [head, "-" * len(head)]
    for name in ("synthetic", "baseline"):
        row = result.get(name)
        if not row:
            continue
        fid = f"{row['fid']:.1f}" if row.get("fid") is not None else "-"
        label = f"{LABELS[name]} (n={row['n']})"
        lines.append(f"{label:<28}{fid:>10}{row['kl']:>10.3f}{row['js']:>10.3f}{row['chi2']:>10.3f}"
                     f"{row['hi']:>16.3f}")
    s = result["settings"]
    lines.append(f"real IR: {result['real']['dir']} (n={result['real']['n']}); histograms: {s['bins']} bins over "
                 f"[0,255], pooled over all pixels of a set; eps = {s['eps']:g}; KL(real || set), natural log")
    if s.get("note"):
        lines.append(f"note: {s['note']}")
    return "\n".join(lines)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc)
