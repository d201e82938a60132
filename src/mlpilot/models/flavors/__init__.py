"""Flavors: how each kind of model is written to a model folder and read back.

A flavor is chosen by ``registry.flavor_for(model)`` when saving and by the descriptor's ``flavor``
name when loading. XGBoost and LightGBM are extras: their flavors import the library only when a
model of theirs is saved, loaded or predicted with.
"""

from mlpilot.models.flavors.base import Flavor
from mlpilot.models.flavors.registry import flavor_for, get_flavor, known_flavors

__all__ = ["Flavor", "flavor_for", "get_flavor", "known_flavors"]
