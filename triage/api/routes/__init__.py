"""The API's routers, one module per resource."""

from triage.api.routes import health, keys, queue, scoring, tickets

ROUTERS = (scoring.router, tickets.router, queue.router, keys.router, health.router)

__all__ = ["ROUTERS"]
