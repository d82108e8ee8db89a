"""registry/db"""
