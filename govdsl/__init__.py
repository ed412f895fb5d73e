"""govdsl: a policy-as-code compiler and rules engine for AI governance."""

__version__ = "0.1.0"
