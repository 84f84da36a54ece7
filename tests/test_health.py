from __future__ import annotations

import httpx


async def test_healthz_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    from asgi_lifespan import LifespanManager
    from sqlalchemy.engine import make_url

    from app.db.database import Database
    from app.main import create_app
    from app.settings import Settings

    # Port 1 on loopback: nothing listens, so every connection is refused at once.
    dead = Database.from_url(make_url("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"))
    settings = Settings(_env_file=None, auto_migrate=False, scheduler_enabled=False)
    app = create_app(settings, database=dead)
    try:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.get("/healthz")
    finally:
        await dead.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
