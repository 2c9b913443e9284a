"""CLI subcommands, one module each. Each exports `register(subparsers)`.

A parser sets `func=handler` where `handler(args: argparse.Namespace) -> int` returns the exit
code. Handlers parse and print; the work is done by agent.actions.
"""
