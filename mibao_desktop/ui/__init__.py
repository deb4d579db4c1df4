"""The PySide6 desktop client: a thin layer over the Qt-free core (no SQL, no business rule)."""
