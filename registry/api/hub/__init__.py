"""The Hub's JSON API (`/api/v1/...`), Docker's v1 search and the token endpoint's neighbours."""
