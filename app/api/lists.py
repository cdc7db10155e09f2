"""Paged lists: `{"items", "total", "next"}` with `?limit=` and an offset carried in `next`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request
from sqlalchemy import Select, func, select

from app.db import db


@dataclass
class Page:
    items: list[Any]
    total: int
    next: str | None


def paginate(statement: Select[Any], args: dict[str, Any]) -> Page:
    """One page of `statement` (which must have a stable, unique order) as `args` ask."""
    limit, offset = args["limit"], args["offset"]
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = list(db.session.scalars(statement.limit(limit).offset(offset)).unique())
    more = offset + len(items) < (total or 0)
    return Page(items, total or 0, _address(offset + limit, limit) if more else None)


def _address(offset: int, limit: int) -> str:
    """This list's address with the same filters, at `offset`."""
    query = request.args.to_dict(flat=False)
    query["offset"] = [str(offset)]
    query["limit"] = [str(limit)]
    return f"{current_app.config['BASE_URL']}{request.path}?{urlencode(query, doseq=True)}"
