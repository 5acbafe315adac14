"""The rollout scenario's checks run on two kinds of machine: the fleet and repo1, its repository."""


def pytest_configure(config):
    config.addinivalue_line("markers", "repository: a check of repo1, the site's repository (the fleet's checks skip it)")
