"""Results as JSON, as described by docs/schemas/results-v2.schema.json."""

from __future__ import annotations

import json

from govdsl.engine.results import Results


def render_json(results: Results) -> str:
    # allow_nan=False turns a NaN that slipped through into an error instead of invalid JSON.
    return json.dumps(results.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
