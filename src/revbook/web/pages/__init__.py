"""One module per dashboard page: an APIRouter ``router``, ``NAV`` (menu label and path, or None), ``warm()``."""
