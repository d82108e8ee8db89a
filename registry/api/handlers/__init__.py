"""registry/api/handlers"""
