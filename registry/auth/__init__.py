"""Who may do what: scopes, access controllers and (later) tokens."""
