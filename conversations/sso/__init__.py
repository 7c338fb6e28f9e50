"""Single sign-on with an OpenID Connect provider, through django-allauth: the provider's
configuration (config), its protocol checks on top of allauth's (oidc), who an account is
and what it may do (adapter, services), its sessions (models, selectors, services) and the
provider's back-channel logout (backchannel)."""
