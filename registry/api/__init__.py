"""registry/api"""
