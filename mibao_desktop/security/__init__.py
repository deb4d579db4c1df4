"""Who may do what (三员分立, seed 002 §七) and how passwords are kept. Qt-free.

``roles``: the three roles, the acting person and the role check every service makes (with
the logged-in session's own check that its account is still enabled).
``passwords``: scrypt hashing and the unit's password policy, with floors nobody goes under.
``inputs``: what typed text may hold (no control characters, no lone surrogates).
"""

from mibao_desktop.security.passwords import SecurityPolicy, hash_password, verify_password
from mibao_desktop.security.roles import Actor, PasswordChangeRequired, Role, SessionEnded, require

__all__ = ["Actor", "PasswordChangeRequired", "Role", "SecurityPolicy", "SessionEnded", "hash_password", "require", "verify_password"]
