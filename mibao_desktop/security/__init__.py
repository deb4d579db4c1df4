"""Who may do what (三员分立, seed 002 §七) and how passwords are kept. Qt-free.

``roles``: the three roles, the acting person and the role check every service makes.
``passwords``: scrypt hashing and the unit's password policy.
"""

from mibao_desktop.security.passwords import SecurityPolicy, hash_password, verify_password
from mibao_desktop.security.roles import Actor, Role, require

__all__ = ["Actor", "Role", "SecurityPolicy", "hash_password", "require", "verify_password"]
