"""``python -m lakegate.docs_gen`` prints docs/settings.md (``make docs``)."""

from lakegate.config import settings_reference

if __name__ == "__main__":
    print(settings_reference(), end="")
