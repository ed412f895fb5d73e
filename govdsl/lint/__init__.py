"""`govdsl lint`: a registry of rules over policy and waiver files, suppressions, and output for code review tools."""
