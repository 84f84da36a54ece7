"""The Engagement Plan Executor service."""

from app.lazy_aiogram import import_aiogram

# Before any module of the app imports aiogram: see app/lazy_aiogram.py.
import_aiogram()

from app.aiogram_post_init import bind_bots_directly  # noqa: E402 - after import_aiogram

bind_bots_directly()
