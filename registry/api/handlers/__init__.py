"""One module per distribution-spec resource. Handlers parse, call one service, respond."""
