"""The SQLite file's life: integrity check at start, backups with rotation, restore. Qt-free.

On PostgreSQL the server keeps the data: these checks and copies are then the database
administrator's job (pg_dump), and the application says so instead of running them.
"""
