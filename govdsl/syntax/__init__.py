"""Policy source text to AST: grammar loading, parser, AST node classes."""

__all__ = ["Module", "parse"]


def __getattr__(name: str):
    # The names load on first use, so that importing a submodule such as govdsl.syntax.cache
    # does not build the AST classes, which takes about 0.1 s.
    if name == "Module":
        from govdsl.syntax.ast import Module

        return Module
    if name == "parse":
        from govdsl.syntax.parser import parse

        return parse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
