"""The SQLite database's files (the database, its -wal and -shm) are its owner's alone."""

import logging
import os

logger = logging.getLogger(__name__)


def sqlite_files_owner_only(sender, connection, **kwargs) -> None:
    """On each new connection (connection_created), make the SQLite files owner-only.

    The settings' umask makes every new file so; this corrects a database created before it,
    or by another program, and its -wal and -shm, which SQLite creates with the mode the
    database had. A signal, because a new connection is the one moment every process (web,
    worker, manage.py) passes before it reads a record.
    """
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    database = str(connection.settings_dict["NAME"])
    for path in (database, database + "-wal", database + "-shm"):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            continue
        except PermissionError:
            # Another user's file: say so, but serve; the operator must fix its mode.
            logger.warning("%s is readable by others and not ours to change (chmod 600 it)", path)
