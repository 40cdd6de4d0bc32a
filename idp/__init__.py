"""The national SSO identity provider (OpenID Connect, Flask + Authlib).

Log in once at the hub, be recognised by every regional platform; log out once.
"""
