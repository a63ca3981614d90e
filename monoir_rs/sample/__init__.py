"""The sample RGB source pool: a deterministic stand-in for RS5M, SkyScript, NWPU-Captions, RSICD and RSITMD,
written in each source's public release layout so the real readers (`monoir_rs.sources`) read it."""

from monoir_rs.sample.pool import SOURCE_SHARE, SPLIT_SHARE, plan, write_pool
from monoir_rs.sample.scenes import CLASS_NAMES, SCENE_CLASSES

__all__ = ["write_pool", "plan", "CLASS_NAMES", "SCENE_CLASSES", "SOURCE_SHARE", "SPLIT_SHARE"]
