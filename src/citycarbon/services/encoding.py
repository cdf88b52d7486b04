"""Plain JSON values from what the services compute (numpy and pandas scalars, dates, NaN, pydantic models): the
one conversion used for job records (:mod:`citycarbon.services.jobs`) and the API's envelope."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf → null, numpy/pandas scalars → Python, dates → ISO text, tuples → lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json"))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return None if (math.isnan(value) or math.isinf(value)) else value
    if hasattr(value, "item"):
        try:
            return jsonable(value.item())
        except (ValueError, AttributeError, TypeError):
            pass
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a hard dependency
        pass
    return str(value)
