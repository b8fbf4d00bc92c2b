"""The API's routers, one module per resource."""

from triage.api.routes import connectors, docs, health, keys, page, queue, scoring, tickets

ROUTERS = (scoring.router, tickets.router, queue.router, keys.router, health.router,
           page.router, docs.router, connectors.router)

__all__ = ["ROUTERS"]
