"""Policy source text to AST: grammar loading, parser, AST node classes."""

from govdsl.syntax.ast import Module
from govdsl.syntax.parser import parse

__all__ = ["Module", "parse"]
