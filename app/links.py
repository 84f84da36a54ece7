"""Where the Mini App lives: the one place its URLs are spelled, for the reminders the
dispatcher sends and the bot's own replies and menu button alike."""

from __future__ import annotations

from dataclasses import dataclass

from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Links:
    # None without a public address, and in local mode: Telegram opens a Mini App only
    # from an https URL it can reach, so buttons fall back to callbacks and plain text.
    app_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        if settings.public_base_url and not settings.local_mode:
            return cls(f"{settings.public_base_url}/app/")
        return cls(None)

    def lead_url(self, lead_id: int) -> str | None:
        if self.app_url is None:
            return None
        return f"{self.app_url}#/leads/{lead_id}"
