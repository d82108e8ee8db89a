"""Views of the web interface, one module per area; each turns a request into one page."""
