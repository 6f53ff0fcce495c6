"""An evaluation-first benchmarking harness for LLMs and their tuned variants."""

__version__ = "0.1.0"
