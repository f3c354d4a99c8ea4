from .fixtures import shop  # noqa: F401
