"""The Engagement Plan Executor service."""

from app.lazy_aiogram import import_aiogram

# Before any module of the app imports aiogram: see app/lazy_aiogram.py.
import_aiogram()
