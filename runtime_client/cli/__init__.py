"""The `berth` command line: argparse only, one module per command group, one function per verb.

Each verb turns argv into a frozen options dataclass (`runtime_client.options`) and calls one
`runtime_client.ops.<verb>` function. Only `cli.main` maps errors to messages and exit codes.
"""
