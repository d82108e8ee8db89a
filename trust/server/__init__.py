"""trust/server"""
