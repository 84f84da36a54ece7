"""How the built Mini App is served at /app/. No database: these routes never touch it, so
the app is driven without its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from app.settings import Settings

INDEX = '<!doctype html><html><body><div id="root"></div><script src="/app/assets/index-abc123.js"></script></body></html>'
SCRIPT = "console.log('mini app');\n" * 200


def _client(dist: Path, tmp_path: Path) -> httpx.AsyncClient:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        webapp_dist=str(dist),
        scheduler_enabled=False,
    )
    app = create_app(settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text(SCRIPT)
    (root / "assets" / "index-def456.css").write_text("body{color:red}")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


@pytest.fixture
async def served(dist: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(dist, tmp_path) as client:
        yield client


async def test_index_is_served_without_cache(served: httpx.AsyncClient) -> None:
    response = await served.get("/app/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert 'id="root"' in response.text


async def test_head_is_answered_like_get(served: httpx.AsyncClient) -> None:
    response = await served.head("/app/")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


async def test_app_without_slash_redirects(served: httpx.AsyncClient) -> None:
    response = await served.get("/app")
    assert response.status_code == 308
    assert response.headers["location"] == "/app/"


async def test_hashed_assets_are_immutable_for_a_year(served: httpx.AsyncClient) -> None:
    response = await served.get("/app/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in response.headers["content-type"]
    assert response.text == SCRIPT


async def test_text_assets_are_gzipped_when_the_client_accepts_it(
    served: httpx.AsyncClient,
) -> None:
    response = await served.get("/app/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(SCRIPT) / 10
    assert response.text == SCRIPT  # httpx undoes the encoding
    plain = await served.get("/app/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == SCRIPT.encode()


async def test_files_outside_assets_are_revalidated(served: httpx.AsyncClient) -> None:
    response = await served.get("/app/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("route", ["/app/leads/12", "/app/settings", "/app/leads/new/deeper"])
async def test_app_routes_fall_back_to_index(served: httpx.AsyncClient, route: str) -> None:
    response = await served.get(route)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert 'id="root"' in response.text


@pytest.mark.parametrize("path", ["/app/assets/index-gone.js", "/app/missing.png"])
async def test_missing_files_are_404_not_index(served: httpx.AsyncClient, path: str) -> None:
    response = await served.get(path)
    assert response.status_code == 404
    assert 'id="root"' not in response.text


@pytest.mark.parametrize(
    "path", ["/app/../secret.txt", "/app/%2e%2e/secret.txt", "/app/assets/..%2f..%2fsecret.txt"]
)
async def test_nothing_outside_the_build_is_served(served: httpx.AsyncClient, path: str) -> None:
    response = await served.get(path)
    assert "outside the build" not in response.text


async def test_a_missing_build_gets_a_clear_page(tmp_path: Path) -> None:
    async with _client(tmp_path / "no-such-dist", tmp_path) as client:
        for path in ("/app/", "/app/leads/3", "/app/assets/index-abc123.js"):
            response = await client.get(path)
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("text/html")
            assert "npm run build" in response.text
            assert "make run" in response.text
