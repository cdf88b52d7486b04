"""Who is asking, and what they may do: roles, scopes and the permission rules (pure, no DB, no HTTP).

The store keeps users, tokens and sessions; the API and web turn a cookie or bearer token into a
:class:`~citycarbon.auth.principal.Principal` and ask it before every read and write.
"""

from citycarbon.auth.errors import AuthError, LoginChallenge
from citycarbon.auth.principal import ROLES, SCOPES, Principal, Role

__all__ = ["ROLES", "SCOPES", "AuthError", "LoginChallenge", "Principal", "Role"]
