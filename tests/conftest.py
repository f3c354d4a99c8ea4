"""docker/ is not a package; its healthcheck script is imported by the tests as `docker_healthcheck`."""

import importlib.util
import sys

from tests.support.parsers import ROOT

_spec = importlib.util.spec_from_file_location("docker_healthcheck", ROOT / "docker" / "healthcheck.py")
_module = importlib.util.module_from_spec(_spec)
sys.modules["docker_healthcheck"] = _module
_spec.loader.exec_module(_module)
