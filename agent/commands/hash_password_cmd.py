"""`hostward hash-password`: a bcrypt hash for `exporter.basic_auth_users`.

The password is read from standard input when it is not a terminal (`... | hostward
hash-password`), else prompted for twice without echo. It never appears in argv.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import bcrypt

from agent.commands import common


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "hash-password",
        help="print a bcrypt hash for exporter.basic_auth_users / 生成密码哈希",
    )
    p.add_argument(
        "--cost",
        type=int,
        default=12,
        choices=range(10, 17),
        metavar="10..16",
        help="bcrypt cost factor (default 12)",
    )
    p.set_defaults(func=run)


def read_password() -> str | None:
    """The password, or None if the two prompts differ."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password / 密码: ")
    second = getpass.getpass("Again / 再输入一次: ")
    return first if first == second else None


def run(args: argparse.Namespace) -> int:
    password = read_password()
    if password is None:
        print("hostward: the passwords differ / 两次输入不一致", file=sys.stderr)
        return common.EXIT_USAGE
    if not password:
        print("hostward: empty password refused / 密码不能为空", file=sys.stderr)
        return common.EXIT_USAGE
    encoded = password.encode("utf-8")
    if len(encoded) > 72:
        print("hostward: bcrypt uses at most 72 bytes of a password", file=sys.stderr)
        return common.EXIT_USAGE
    print(bcrypt.hashpw(encoded, bcrypt.gensalt(rounds=args.cost)).decode("ascii"))
    return common.EXIT_OK
