"""httpx requests seen through openapi-core's ``Request`` protocol (openapi-core has no httpx adapter)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


@dataclass
class OpenApiRequest:
    """What openapi-core reads of a request."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


def as_openapi_request(
    request: httpx.Request,
    *,
    host_url: str,
    path: str,
    default_content_type: str = "",
    keep_query: Callable[[str], bool] = lambda key: True,
) -> OpenApiRequest:
    """Wrap ``request`` for validation at ``host_url`` + ``path``, keeping the query keys ``keep_query`` accepts."""
    query = [(key, value) for key, value in request.url.params.multi_items() if keep_query(key)]
    return OpenApiRequest(
        host_url=host_url,
        path=path,
        method=request.method.lower(),
        body=request.content or None,
        content_type=request.headers.get("content-type", default_content_type).lower(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(list(request.headers.items())), cookie=ImmutableMultiDict()
        ),
    )
