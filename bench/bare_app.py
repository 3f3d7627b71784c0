"""A bare Starlette + Jinja2 page of about the size of hubcore's pages, for comparison."""

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

env = Environment(autoescape=True)
PAGE = env.from_string(
    "<!doctype html><html><head><title>bare</title></head><body><table>"
    "{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}"
    "</table></body></html>"
)
ROWS = [[f"部屋{r}-{c}" for c in range(12)] for r in range(7)]


def page(request):
    return HTMLResponse(PAGE.render(rows=ROWS))


app = Starlette(routes=[Route("/", page)])
