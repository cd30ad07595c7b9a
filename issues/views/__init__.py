"""HTTP in and out of the issues app, one module per audience or concern."""
