"""trust/tuf"""
