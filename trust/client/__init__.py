"""trust/client"""
