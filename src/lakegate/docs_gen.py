"""``python -m lakegate.docs_gen [settings|types]``: docs/settings.md or docs/types.md (``make docs``)."""

import sys

from lakegate.config import settings_reference
from lakegate.types import lattice_reference

if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "settings"
    print(lattice_reference() if which == "types" else settings_reference(), end="")
