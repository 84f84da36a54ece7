# Importing the app package first defers aiogram's models (app/patches/lazy_aiogram.py) in every
# process started from here, as in the service itself.
import app  # noqa: F401
