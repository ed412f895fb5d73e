"""Codes of the diagnostics that lint reports besides its rules: the parser's, the compiler's and the waiver checks'.

`--select` and `--ignore` accept these codes and their prefixes, so that a code
that matches nothing is a usage error rather than a silent selection of nothing.
docs/language.md and docs/waivers.md describe each code.
"""

from __future__ import annotations

COMPILER_CODES = (
    # Syntax
    "E001", "E002", "E003", "E004", "E005", "E006", "E007", "E008", "E009", "E010", "E011",
    # Names, modules and imports
    "E101", "E102", "E103", "E104", "E105", "E107", "E110", "E111", "E120", "E121",
    # Clauses
    "E201", "E202", "E203", "W204", "W206", "I207", "W208",
    # Types, metrics and parameters
    "E301", "E302", "E303", "E304", "W305", "E306", "W312", "E320", "E321", "E322", "E323",
    "E330", "E331", "E333", "E334", "E335", "E336", "E337", "E338", "E339", "E340", "E341", "E342", "W343",
    # Files
    "E501", "E502",
    # Catalogs and crosswalks
    "E601", "E602", "E603", "E604", "E605", "E606", "E611", "E612", "E613", "E614", "E615",
    # Waiver files
    "E801", "E802", "E803", "E804", "E805",
)
