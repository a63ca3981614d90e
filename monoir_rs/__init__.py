"""MonoIR-RS: the infrared remote-sensing vision-language corpus (schema, sample pool, build, audits, loading)."""

from monoir_rs.schema import CONFIGS, SOURCES, SPLITS

__version__ = "0.1.0"

__all__ = ["CONFIGS", "SOURCES", "SPLITS", "__version__", "load"]


def load(config: str = "all", split: str | None = None, data: str | None = None, **kwargs):
    """Load a MonoIR-RS config with `datasets` (local folder, or the Hub repo in `MONOIR_RS_REPO`)."""
    from monoir_rs.hub import load

    return load(config=config, split=split, data=data, **kwargs)
