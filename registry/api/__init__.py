"""The HTTP layer: routes, middlewares and thin handlers (one module per resource)."""
