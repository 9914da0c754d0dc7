"""`/healthz`: is the daemon up and its store reachable, and how did each flow's last run end.

Unauthenticated (container probes carry no token) and free of data: flow names, statuses and
instants only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse

from syncd.store.models import Run


def health_endpoint(engine: Engine) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def health(_request: Request) -> JSONResponse:
        try:
            with Session(engine) as session:
                latest = select(func.max(Run.id)).group_by(Run.flow)
                runs = session.scalars(select(Run).where(Run.id.in_(latest))).all()
        except SQLAlchemyError as exc:
            return JSONResponse({"status": "unhealthy", "store": exc.__class__.__name__}, status_code=503)
        flows = {
            run.flow: {
                "status": run.status,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            }
            for run in runs
        }
        return JSONResponse({"status": "ok", "flows": flows})

    return health
