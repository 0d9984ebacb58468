"""OpenAPI 3.0 schemas from TypedDicts: the reply shapes are written once, as Python types.

A TypedDict becomes a component (`additionalProperties: false`, its required keys listed) and a
`$ref` to it; `X | None` is nullable, Literal an enum, list an array, dict[str, V] an object whose
values are V, Any anything. Anything else is a mistake in a shape and raises TypeError.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

Schema = dict[str, Any]

SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
REF = "#/components/schemas/"


def schema_of(shape: Any, components: dict[str, Schema]) -> Schema:
    """The schema of `shape`; the TypedDicts it reaches are added to `components` by name."""
    if is_typeddict(shape):
        name = shape.__name__
        if name not in components:
            components[name] = {}  # taken before recursing: a shape may reach itself
            components[name] = _object(shape, components)
        return {"$ref": REF + name}
    origin, args = get_origin(shape), get_args(shape)
    if origin is Union or origin is types.UnionType:
        return _union(shape, args, components)
    if origin is Literal:
        return {"type": _scalar(type(args[0])), "enum": list(args)}
    if origin is list:
        return {"type": "array", "items": schema_of(args[0], components)}
    if origin is dict and args[0] is str:
        return {"type": "object", "additionalProperties": schema_of(args[1], components)}
    if shape is Any:
        return {}
    return {"type": _scalar(shape)}


def _object(shape: Any, components: dict[str, Schema]) -> Schema:
    hints = get_type_hints(shape)
    schema: Schema = {
        "type": "object",
        "properties": {key: schema_of(hint, components) for key, hint in hints.items()},
        "additionalProperties": False,
    }
    required = sorted(shape.__required_keys__)
    if required:
        schema["required"] = required
    return schema


def _union(shape: Any, args: tuple[Any, ...], components: dict[str, Schema]) -> Schema:
    present = [arg for arg in args if arg is not type(None)]
    if len(present) != 1 or len(args) != 2:
        raise TypeError(f"Only `X | None` unions describe the wire: {shape}")
    schema = schema_of(present[0], components)
    if "$ref" in schema:  # OpenAPI 3.0 ignores siblings of $ref: say "null or this object"
        return {"anyOf": [{"type": "object", "nullable": True}, schema]}
    if "enum" in schema:
        schema["enum"].append(None)  # OpenAPI 3.0.3: a nullable enum lists null
    return {**schema, "nullable": True}


def _scalar(python_type: Any) -> str:
    try:
        return SCALARS[python_type]
    except (KeyError, TypeError):
        raise TypeError(f"No wire type for {python_type!r}") from None
