"""Identity: password logins, tokens, API keys, and the organisation (users, departments, roles)."""
