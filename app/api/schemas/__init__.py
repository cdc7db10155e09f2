"""The API's request and response schemas, a module per resource: they validate the input and,
through flask-smorest, write the OpenAPI document, so the two cannot drift apart."""
