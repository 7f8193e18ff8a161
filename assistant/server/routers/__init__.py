"""The application's routes, one module-level ``APIRouter`` per group; ``create_app``
includes them in order."""
