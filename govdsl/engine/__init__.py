"""Evaluate a Plan against a bundle's evidence: reductions once, checks and controls in order, the gate.

Import `govdsl.engine.evaluate` to run an evaluation. This package module imports
nothing, so `govdsl.engine.results` stays free of pandas and numpy for the renderers.
"""
