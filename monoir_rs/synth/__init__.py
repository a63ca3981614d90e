"""IR synthesis T_φ (paper eq. 2): plug-ins that turn a visible RGB image into a single-channel infrared-style
image.

`get_synth(name, **opts)` returns an object with `name`, `settings() -> dict` (recorded in the build report),
`__call__(rgb: PIL.Image) -> PIL.Image` (mode "L") and `run_batch(items) -> list[PIL.Image]` (items: paths or
PIL images). Names:
- `gray`: ITU-R BT.601 luma, the paper's RGB-to-gray baseline (Table 2);
- `thermal-proxy`: a deterministic material heuristic (water dark, pavement/roofs/bare soil bright, vegetation
  mid), blurred, with sensor noise seeded from the image content;
- `external`: any command run per batch, e.g. DiffV2IR (paper §C.5) — see `monoir_rs.synth.external`.
"""

from __future__ import annotations

from monoir_rs.errors import UserError

SYNTHS = ("gray", "thermal-proxy", "external")


def get_synth(name: str, **opts):
    """IR synthesizer by name (one of `SYNTHS`); `opts` are its keyword options (strings from the CLI work)."""
    if name == "gray":
        from monoir_rs.synth.gray import GraySynth

        return GraySynth(**opts)
    if name in ("thermal-proxy", "thermal_proxy"):
        from monoir_rs.synth.thermal_proxy import ThermalProxySynth

        return ThermalProxySynth(**opts)
    if name == "external":
        from monoir_rs.synth.external import ExternalSynth

        return ExternalSynth(**opts)
    raise UserError(f"unknown IR synthesizer {name!r}: use one of {', '.join(SYNTHS)} "
                    "(e.g. `--ir-synth thermal-proxy`, or `--ir-synth external --synth-opt cmd=\"...\"`)")


__all__ = ["get_synth", "SYNTHS"]
