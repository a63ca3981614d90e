"""MonoIR-RS evaluation harness: task registry, model adapters, metrics, runner and reports."""

__version__ = "0.1.0"
