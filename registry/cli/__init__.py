"""`berth-hub`: the hub's command line (serve, db). Each group is one module."""
