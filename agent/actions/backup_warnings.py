"""What `hostward config validate` and the status page warn about in the backup config."""

from __future__ import annotations

from agent.config.schema import Config
from backup.media import password_file_problem, same_media


def backup_warnings(config: Config) -> list[str]:
    """What `config validate` and the status page warn about: both copies on one medium, a
    password file open to others (refused when used)."""
    repos = config.backup.repositories
    out = []
    if repos.primary is not None and repos.secondary is not None:
        why = same_media(repos.primary.url, repos.secondary.url)
        if why:
            out.append(f"backup.repositories: {why}")
    for name, repo in (("primary", repos.primary), ("secondary", repos.secondary)):
        problem = password_file_problem(name, repo.password_file) if repo is not None else ""
        if problem:
            out.append(f"backup.repositories.{name}.password_file: {problem}")
    return out
