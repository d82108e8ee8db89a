"""`berth`: a daemonless, docker-like client that pulls, pushes, signs, verifies and runs images."""
