"""Readable random run names, so a list of runs can be talked about."""

from __future__ import annotations

import secrets

__all__ = ["random_run_name"]

_ADJECTIVES = (
    "amber agile bold brave bright calm clever crisp daring eager fair fleet gentle glad grand hardy keen "
    "lively lucid mellow merry nimble noble polite proud quick quiet rapid serene sharp sleek steady "
    "sunny swift tidy vivid warm wise witty zesty"
).split()
_NOUNS = (
    "badger bear bison crane dolphin eagle falcon fox gecko heron ibis jaguar koala lark lemur lynx "
    "marten moose narwhal newt otter owl panda puffin quail raven robin seal shark sloth stork swan "
    "tapir tiger toad trout viper walrus whale wolf wren yak zebra"
).split()


def random_run_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000):03d}"
