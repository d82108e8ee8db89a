"""The Kubernetes admission webhook: pods run only images this hub's signature gate would serve."""
