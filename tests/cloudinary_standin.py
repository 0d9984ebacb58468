"""A loopback stand-in for Cloudinary's upload API that checks requests as the real one does.

It verifies the API key, the timestamp's freshness, the SHA-1 signature computed with the API
secret over the sorted parameters, and that the resource type fits the content; it answers in
Cloudinary's response format. It implements the signing rule itself, not through the SDK, so a
wrong secret or a missing parameter in the project's requests makes the tests fail.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass, field

from aiohttp import web
from PIL import Image

UNSIGNED = {"file", "api_key", "signature", "resource_type", "cloud_name"}


def expected_signature(params: dict[str, str], secret: str) -> str:
    pairs = sorted(
        f"{k}={v}".replace("&", "%26") for k, v in params.items() if k not in UNSIGNED and v
    )
    return hashlib.sha1(("&".join(pairs) + secret).encode()).hexdigest()  # noqa: S324 - Cloudinary's rule


@dataclass
class Asset:
    data: bytes
    resource_type: str


@dataclass
class StandIn:
    cloud: str = "demo-cloud"
    api_key: str = "123456789012345"
    api_secret: str = "the-real-secret"
    assets: dict[str, Asset] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)

    def _check(self, request: web.Request, form: dict[str, str]) -> web.Response | None:
        if request.match_info["cloud"] != self.cloud:
            return self._error(404, "Invalid cloud_name " + request.match_info["cloud"])
        if form.get("api_key") != self.api_key:
            return self._error(401, "Unknown API key " + form.get("api_key", ""))
        try:
            stamp = int(form.get("timestamp", ""))
        except ValueError:
            return self._error(400, "Missing required parameter - timestamp")
        if abs(time.time() - stamp) > 3600:
            return self._error(400, "Stale request - reported time is more than 1 hour ago")
        if form.get("signature") != expected_signature(form, self.api_secret):
            return self._error(401, "Invalid Signature " + form.get("signature", ""))
        return None

    def _error(self, status: int, message: str) -> web.Response:
        self.refused.append(message)
        return web.json_response({"error": {"message": message}}, status=status)

    async def upload(self, request: web.Request) -> web.Response:
        posted = await request.post()
        upload = posted.get("file")
        form = {k: v for k, v in posted.items() if isinstance(v, str)}
        if (refusal := self._check(request, form)) is not None:
            return refusal
        if upload is None or isinstance(upload, str):
            return self._error(400, "Missing required parameter - file")
        data = upload.file.read()
        resource_type = request.match_info["resource_type"]
        width = height = None
        if resource_type == "image":
            try:
                with Image.open(io.BytesIO(data)) as img:
                    width, height = img.size
                    fmt = (img.format or "").lower().replace("jpeg", "jpg")
            except Exception:
                return self._error(400, "Invalid image file")
        elif resource_type not in ("video", "raw"):
            return self._error(400, "Invalid resource type")
        else:
            fmt = form["public_id"].rsplit(".", 1)[-1] if resource_type == "raw" else "mp4"
        public_id = form["public_id"]
        if public_id in self.assets and form.get("overwrite") == "false":
            return self._error(409, "Resource already exists")
        self.assets[public_id] = Asset(data, resource_type)
        version = int(time.time())
        suffix = "" if resource_type == "raw" else f".{fmt}"
        path = f"{self.cloud}/{resource_type}/upload/v{version}/{public_id}{suffix}"
        body = {
            "asset_id": hashlib.md5(public_id.encode()).hexdigest(),  # noqa: S324 - an id, as theirs
            "public_id": public_id,
            "version": version,
            "signature": hashlib.sha1(data).hexdigest(),  # noqa: S324
            "resource_type": resource_type,
            "type": "upload",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "bytes": len(data),
            "etag": hashlib.md5(data).hexdigest(),  # noqa: S324
            "placeholder": False,
            "url": f"http://res.cloudinary.com/{path}",
            "secure_url": f"https://res.cloudinary.com/{path}",
            "original_filename": "upload",
        }
        if resource_type != "raw":
            body["format"] = fmt
        if width is not None:
            body.update(width=width, height=height)
        return web.json_response(body)

    async def destroy(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if (refusal := self._check(request, form)) is not None:
            return refusal
        asset = self.assets.get(form.get("public_id", ""))
        if asset is None or asset.resource_type != request.match_info["resource_type"]:
            return web.json_response({"result": "not found"})
        del self.assets[form["public_id"]]
        self.destroyed.append(form["public_id"])
        return web.json_response({"result": "ok"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1_1/{cloud}/{resource_type}/upload", self.upload)
        app.router.add_post("/v1_1/{cloud}/{resource_type}/destroy", self.destroy)
        return app
