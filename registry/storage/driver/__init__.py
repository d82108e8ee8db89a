"""registry/storage/driver"""
