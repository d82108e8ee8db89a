"""registry/storage"""
