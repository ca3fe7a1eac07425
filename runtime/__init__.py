"""agentrt runtime: everything that is not Temporal workflow or activity code."""
