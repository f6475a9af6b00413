"""Clients that stop at a password prompt when run as written (blind round 10, issue 11 §2).

``mysql -u root -p`` (the MySQL/MariaDB clients with a bare ``-p`` / ``--password``), ``psql
-W`` / ``--password``, ``mongosh -p`` without a value, ``docker login`` without a password
option, ``htpasswd`` without ``-b``, ``passwd``: each reads a password from the terminal. As a
plain step it hangs until the step's timeout (and then rolls back a healthy change); it is a
manual step a person types the password into (prompts.py reads the reason as a typed answer).
"""

from __future__ import annotations

_MYSQL = {
    "mysql",
    "mariadb",
    "mysqldump",
    "mariadb-dump",
    "mysqladmin",
    "mariadb-admin",
    "mysqlcheck",
    "mariadb-check",
    "mysqlimport",
    "mysql_upgrade",
    "mariadb-upgrade",
    "mysqlshow",
    "mysqlpump",
}


def asks_password(name: str, args: list[str]) -> str | None:
    """Why ``name args`` stops for a typed password, else None."""
    if name in _MYSQL and ("-p" in args or "--password" in args):
        return f"`{name} -p` prompts for the password"
    if name in ("psql", "pg_dump", "pg_dumpall", "pg_restore", "createdb", "dropdb") and (
        "-W" in args or "--password" in args
    ):
        return f"`{name} -W` prompts for the password"
    if name in ("mongosh", "mongo") and args and args[-1] in ("-p", "--password"):
        return f"`{name} -p` without a value prompts for the password"
    if (
        name == "docker"
        and args[:1] == ["login"]
        and not any(a in ("-p", "--password-stdin") or a.startswith("--password") for a in args)
    ):
        return "`docker login` without a password option prompts for it"
    if name == "htpasswd" and not any(a.startswith("-") and "b" in a for a in args):
        return "`htpasswd` without -b prompts for the password"
    if name == "passwd":
        return "`passwd` prompts for the new password"
    return None


def is_prompt(why: str) -> bool:
    """Whether a reason is one :func:`asks_password` gave."""
    return "prompts for the" in why and "password" in why
