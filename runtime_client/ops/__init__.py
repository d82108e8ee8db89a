"""The library behind `berth`: one module per verb, the same names as in `runtime_client.cli`.

Ops never print: they write to the streams they are given or return values.
"""
