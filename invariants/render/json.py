"""JSON text of a result (``--json``): one format for every command."""
from __future__ import annotations

import json
from typing import Any


def json_text(payload: Any) -> str:
    """``payload`` (a result's ``to_dict()``) as indented UTF-8 JSON text ending in a newline.

    Raises:
        ValueError: a NaN or infinity in ``payload`` (the contracts write ``null`` for those).
    """
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


__all__ = ["json_text"]
