# Importing the app package first defers aiogram's models (app/lazy_aiogram.py) in every
# process started from here, as in the service itself.
import app  # noqa: F401
