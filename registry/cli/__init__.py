"""`berth-hub`: the hub's command line (serve, db, user, org, token). Each group is one module."""
