"""The web skeleton: pages, 404s, language, theme colours, health."""

from __future__ import annotations

from hubcore.testing import TEST_USER, make_site, make_user


def test_start_page_lists_the_municipalities_and_sites_the_user_may_see(client, site):
    second = make_site("second", municipality="other-town")
    make_site("third", municipality="third-town")
    assert client.get("/", follow_redirects=False).status_code == 302  # one municipality
    make_user(TEST_USER, ("staff", second))
    page = client.get("/?lang=en")
    assert page.status_code == 200
    assert "/m/test-town/" in page.text and "/m/other-town/" in page.text
    assert "/m/third-town/" not in page.text and "/s/third/" not in page.text
    one = client.get("/m/test-town/?lang=en")
    assert f"/s/{site.slug}/" in one.text and "/s/second/" not in one.text
    assert client.get("/m/third-town/").status_code == 404


def test_a_single_municipality_goes_straight_to_its_sites(client, site):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/m/test-town/"


def test_unknown_things_are_404_pages_not_tracebacks(client, site):
    for path in ("/m/nowhere/", "/s/nowhere/", f"/s/{site.slug}/rooms/999/edit/",
                 f"/s/{site.slug}/rooms/abc/edit/", "/nothing-here"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "<h1>" in r.text and "Traceback" not in r.text


def test_japanese_by_default_english_on_request_and_remembered(client, site):
    page = client.get(f"/s/{site.slug}/rooms/")
    assert '<html lang="ja">' in page.text and "部屋" in page.text
    en = client.get(f"/s/{site.slug}/rooms/?lang=en&retired=1")
    assert '<html lang="en">' in en.text and "lang=en" in en.headers["set-cookie"]
    # The language switch keeps the page's other parameters.
    assert "retired=1&amp;lang=ja" in en.text
    again = client.get(f"/s/{site.slug}/rooms/")  # the cookie keeps English
    assert '<html lang="en">' in again.text


def test_browser_language_does_not_override_japanese(client, site):
    page = client.get(f"/s/{site.slug}/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="ja">' in page.text


def test_plugin_colours_come_as_css_not_inline_styles(client, site):
    css = client.get("/plugin-colours.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert '[data-plugin="rooms"]{--chip:#' in css.text
    assert "style=" not in client.get(f"/s/{site.slug}/").text


def test_healthz_answers_while_the_database_does(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    from hubcore import db
    from hubcore.app import create_app
    from hubcore.config import Settings

    monkeypatch.setenv("HUBCORE_INSTANCE", str(tmp_path))
    # Nothing listens on port 1: start-up works (it connects lazily), the probe fails.
    settings = Settings(instance=tmp_path, secret_key="k",
                        database_url="postgresql://nobody@127.0.0.1:1/nothing")
    try:
        with TestClient(create_app(settings)) as c:
            r = c.get("/healthz")
        assert r.status_code == 503 and r.json()["status"] == "error"
    finally:
        db.database.obj.close_all()


def test_a_get_that_writes_runs_in_the_thread_pool_on_sqlite(database):
    """SQLite reads run inline on the event loop; a GET marked ``writes_on_read`` (it logs
    a sensitive read) runs in the thread pool, so waiting for the write lock never holds
    up the loop. On PostgreSQL every view runs in the pool."""
    import threading

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from hubcore import db
    from hubcore.web import sync_endpoint, writes_on_read

    def where(request):
        return PlainTextResponse(threading.current_thread().name)

    def logs(request):
        return where(request)

    app = Starlette(routes=[Route("/read", sync_endpoint(where)),
                            Route("/logs", sync_endpoint(writes_on_read(logs)))])
    with TestClient(app) as c:
        loop = c.portal.call(lambda: threading.current_thread().name)
        read, logged = c.get("/read").text, c.get("/logs").text
    assert logged != loop
    assert (read == loop) is db.is_sqlite()
