"""``python -m testplugins.lessons billing run ...``: the hubcore command with this plugin."""

from hubcore.cli import main
from hubcore.plugins import get_host
from testplugins import lessons

get_host().register(lessons)
main()
