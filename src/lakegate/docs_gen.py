"""``python -m lakegate.docs_gen [settings|types|errors]``: docs/settings.md, docs/types.md or
docs/errors.md (``make docs``)."""

import sys

from lakegate.config import settings_reference
from lakegate.error_codes import errors_page
from lakegate.types import lattice_reference

PAGES = {"settings": settings_reference, "types": lattice_reference, "errors": errors_page}

if __name__ == "__main__":
    print(PAGES[sys.argv[1] if len(sys.argv) > 1 else "settings"](), end="")
