"""A test plugin that requires the garden plugin."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hubcore.auth import requires
from hubcore.hookspecs import hookimpl
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(name="kitchen", label_ja="台所", label_en="Kitchen", requires=("garden",))


@requires("garden.view")  # a plugin may use the actions of one it requires
def index(request):
    return PlainTextResponse("kitchen")


@hookimpl
def register_routes():
    return [Route("/", index, name="index")]
