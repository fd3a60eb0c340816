"""cairn-sdk: the Python client of Cairn projects, and the runtime of generated SDKs.

    from cairn_sdk import Client

    with Client("https://cairn.example.com", "shop", api_key="ck_…") as client:
        posts = client.collection("posts")
        post = posts.create({"title": "Hello"})
        for p in posts.list(filter='title ~ "Hello"', sort="-created_at"):
            print(p["id"], p["title"])

Depends on httpx only; never imports the server package.
"""

from cairn_sdk._auth import AsyncAuth, Auth, AuthResult
from cairn_sdk._client import AsyncClient, Client
from cairn_sdk._errors import (
    APIStatusError,
    BadRequest,
    CairnError,
    Conflict,
    ConnectionError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    Timeout,
    Unauthorized,
    ValidationError,
)
from cairn_sdk._pagination import AsyncPage, Page
from cairn_sdk._version import __version__
from cairn_sdk.resources import AsyncCollectionResource, CollectionResource

__all__ = [
    "APIStatusError",
    "AsyncAuth",
    "AsyncClient",
    "AsyncCollectionResource",
    "AsyncPage",
    "Auth",
    "AuthResult",
    "BadRequest",
    "CairnError",
    "Client",
    "CollectionResource",
    "Conflict",
    "ConnectionError",
    "Forbidden",
    "NotFound",
    "Page",
    "PreconditionFailed",
    "RateLimited",
    "ServerError",
    "Timeout",
    "Unauthorized",
    "ValidationError",
    "__version__",
]
