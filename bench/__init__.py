"""agentrt benchmarks, side by side with pydantic-ai's own Temporal integration. ``python -m bench``."""
