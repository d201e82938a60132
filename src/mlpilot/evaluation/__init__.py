"""Evaluating models on held-out data and gating a candidate against a baseline."""
