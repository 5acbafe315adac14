"""Make the stdlib-only lab package importable and declare the `vm` marker."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "workbench", "lab"))


def pytest_configure(config):
    config.addinivalue_line("markers", "vm: boots real qemu machines (minutes); run by `make test-lab-vm`")
