pytest_plugins = ["hubcore.testing"]
