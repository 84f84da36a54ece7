"""The Engagement Plan Executor service."""

from app.patches import apply

# Before any module of the app imports aiogram: see app/patches/.
apply()
