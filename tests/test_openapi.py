"""The OpenAPI document: valid OpenAPI 3, every call listed, made from the validating schemas."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from app.api.schemas.events import EventIn, EventOut
from app.api.schemas.registrations import RegistrationIn
from tests.contract import EVENT_FIELDS, REGISTRATION_FIELDS_IN

CALLS = {
    "/api/v1/events": {"get", "post"},
    "/api/v1/events/{slug}": {"get", "patch"},
    "/api/v1/events/{slug}/cancel": {"post"},
    "/api/v1/events/{slug}/registrations": {"get", "post"},
    "/api/v1/leads": {"get"},
    "/api/v1/leads/{lead_id}": {"get"},
    "/api/v1/reps": {"get", "post"},
    "/api/v1/reps/{rep_id}": {"patch"},
}
PUBLIC = {("get", "/api/v1/events"), ("post", "/api/v1/events/{slug}/registrations")}


@pytest.fixture
def document(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def schema_named(document, ref: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.")
    validate(document)


def test_the_document_lists_every_call(document):
    for path, methods in CALLS.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), path


def test_registration_request_fields_are_the_contracts(document):
    operation = document["paths"]["/api/v1/events/{slug}/registrations"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = schema_named(document, ref)
    assert set(schema["properties"]) == REGISTRATION_FIELDS_IN
    assert set(schema["required"]) == {"email", "first_name"}
    # The document is the schema that validates requests, not a copy of it.
    assert set(RegistrationIn().fields) == REGISTRATION_FIELDS_IN


def test_event_fields_in_and_out_are_the_contracts(document):
    create = document["paths"]["/api/v1/events"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema_named(document, ref)["properties"]) == EVENT_FIELDS
    answer = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema_named(document, answer)["properties"]) == EVENT_FIELDS
    assert set(EventIn().fields) == set(EventOut().fields) == EVENT_FIELDS


def test_staff_calls_require_the_bearer_scheme_and_public_ones_allow_none(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, methods in CALLS.items():
        for method in methods:
            operation = document["paths"][path][method]
            if (method, path) in PUBLIC:
                assert operation["security"] == [{}, {"bearerAuth": []}]
            else:
                assert operation["security"] == [{"bearerAuth": []}], (method, path)
                assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_errors_are_documented_in_the_shape_they_are_sent(document):
    error = document["components"]["schemas"]["Error"]
    detail = schema_named(document, error["properties"]["error"]["$ref"])
    assert set(detail["properties"]) == {"code", "message", "fields"}
    unprocessable = document["components"]["responses"]["UNPROCESSABLE_ENTITY"]
    assert unprocessable["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_lists_document_items_total_and_next(document):
    operation = document["paths"]["/api/v1/leads"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema_named(document, ref)["properties"]) == {"items", "total", "next"}
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert {"limit", "offset", "status", "q"} <= parameters


def operations(document):  # type: ignore[no-untyped-def]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                yield method, path, operation


def test_every_operation_documents_the_errors_it_can_answer(document):
    for method, path, operation in operations(document):
        codes = set(operation["responses"])
        # Any sent token must be valid, also where none is needed.
        assert "401" in codes, (method, path)
        body = operation.get("requestBody")
        if body:
            assert {"413", "415", "422"} <= codes, (method, path)
            if "application/json" in body["content"]:
                assert "400" in codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
    registration = document["paths"]["/api/v1/events/{slug}/registrations"]["post"]
    assert {"409", "429", "503"} <= set(registration["responses"])


def test_each_shared_error_response_says_when_it_is_answered(document):
    for name, response in document["components"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/Error"), name
        assert len(response["description"]) > 20, name


def test_text_fields_document_the_rules_the_api_applies(document):
    schemas = document["components"]["schemas"]
    registration = schemas["RegistrationIn"]["properties"]
    assert registration["email"]["format"] == "email"
    assert registration["first_name"]["minLength"] == 1
    assert "\\x00-\\x1f" in registration["first_name"]["pattern"]
    assert "DE" in registration["country"]["enum"]
    event = schemas["EventIn"]["properties"]
    assert "Europe/Berlin" in event["timezone"]["enum"]
    assert "EUR" in event["currency"]["enum"]
    assert event["status"]["enum"] == ["draft", "published"]
    assert event["slug"]["pattern"].startswith("^[a-z0-9]")
