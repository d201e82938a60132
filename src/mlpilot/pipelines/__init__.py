"""Pipelines of typed Python steps: a DAG from inputs and outputs, cached, fanned out, tracked."""
