from __future__ import annotations

from pathlib import Path

from apis import load_spec
from apis.swagger2 import convert

SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "Pets", "version": "1"},
    "host": "pets.example.com",
    "basePath": "/v2",
    "schemes": ["https"],
    "consumes": ["application/json"],
    "produces": ["application/json"],
    "securityDefinitions": {
        "basic": {"type": "basic"},
        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "oauth": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://a",
            "tokenUrl": "https://t",
            "scopes": {"read": "read"},
        },
    },
    "parameters": {"Limit": {"name": "limit", "in": "query", "type": "integer"}},
    "definitions": {
        "Pet": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "tag": {"type": "string", "x-nullable": True}},
        }
    },
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "parameters": [
                    {"$ref": "#/parameters/Limit"},
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "multi",
                    },
                    {
                        "name": "ids",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "integer"},
                        "collectionFormat": "pipes",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "pets",
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                    }
                },
            },
            "post": {
                "operationId": "addPet",
                "parameters": [
                    {"name": "pet", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Pet"}}
                ],
                "responses": {"201": {"description": "created"}},
            },
        },
        "/pets/{petId}/photo": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "type": "integer"}],
            "post": {
                "operationId": "uploadPhoto",
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "caption", "in": "formData", "type": "string"},
                    {"name": "file", "in": "formData", "type": "file", "required": True},
                ],
                "responses": {"200": {"description": "ok"}},
            },
            "put": {
                "operationId": "renamePet",
                "consumes": ["application/x-www-form-urlencoded"],
                "parameters": [{"name": "name", "in": "formData", "type": "string", "required": True}],
                "responses": {"200": {"description": "ok"}},
            },
        },
    },
}


def test_servers_come_from_host_base_path_and_schemes() -> None:
    assert convert(SWAGGER)["servers"] == [{"url": "https://pets.example.com/v2"}]


def test_definitions_and_refs_move_to_components() -> None:
    converted = convert(SWAGGER)
    assert converted["openapi"] == "3.0.3"
    pet = converted["components"]["schemas"]["Pet"]
    assert pet["properties"]["tag"] == {"type": "string", "nullable": True}
    response = converted["paths"]["/pets"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Pet"}
    assert converted["paths"]["/pets"]["get"]["parameters"][0] == {"$ref": "#/components/parameters/Limit"}
    assert converted["components"]["parameters"]["Limit"]["schema"] == {"type": "integer"}


def test_collection_formats_become_styles() -> None:
    tags, ids = convert(SWAGGER)["paths"]["/pets"]["get"]["parameters"][1:]
    assert (tags["style"], tags["explode"]) == ("form", True)
    assert (ids["style"], ids["explode"]) == ("pipeDelimited", False)
    assert tags["schema"] == {"type": "array", "items": {"type": "string"}}


def test_body_and_form_data_become_request_bodies() -> None:
    paths = convert(SWAGGER)["paths"]
    body = paths["/pets"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    upload = paths["/pets/{petId}/photo"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    schema = upload["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert schema["required"] == ["file"]
    assert list(paths["/pets/{petId}/photo"]["put"]["requestBody"]["content"]) == [
        "application/x-www-form-urlencoded"
    ]


def test_security_definitions_become_security_schemes() -> None:
    schemes = convert(SWAGGER)["components"]["securitySchemes"]
    assert schemes["basic"] == {"type": "http", "scheme": "basic"}
    assert schemes["key"] == {"type": "apiKey", "in": "query", "name": "api_key"}
    assert schemes["oauth"]["flows"]["authorizationCode"]["tokenUrl"] == "https://t"


def test_converted_spec_yields_operations_and_path_level_parameters(write_spec, cache_dir: Path) -> None:
    spec = load_spec(write_spec(SWAGGER), cache_dir)
    assert spec.converted_from == "swagger 2.0"
    upload = spec.operation("upload_photo")
    assert upload.required_arguments == ["pet_id", "body"]
    assert upload.optional_arguments == []


def test_slack_converts_form_methods(specs_dir: Path, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / "slack-web-swagger2.json", cache_dir)
    assert spec.default_base_url == "https://slack.com/api"
    post = spec.operation("chat_post_message")
    assert (post.method, post.path) == ("POST", "/chat.postMessage")
    assert post.body.media_types[0] == "application/x-www-form-urlencoded"
    assert "channel" in post.body.schema["required"]
    assert [p.name for p in post.parameters if p.location == "header"] == ["token"]
