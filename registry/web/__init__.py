"""The hub's web interface: server-rendered pages at `/` beside the registry and Hub APIs.

One views module per area (`views/explore.py`, `views/repositories.py`, `views/manage.py`,
`views/accounts.py`), templates laid out like the views, one base template, and assets served
by the hub itself. Who may call each route is declared once in `routes.WEB_ROUTES` and enforced,
with sessions, CSRF and the content security policy, in one middleware (`security.py`). Views
call the services the JSON API calls, never the database.
"""
