"""The notice board: its operations, and its pages through the app. Each test runs on
SQLite and on PostgreSQL (hubcore.testing)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from pathlib import Path

import hubcore_noticeboard
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hubcore_noticeboard import operations as ops
from hubcore_noticeboard.models import Notice
from hubcore_noticeboard.schemas import NoticeIn

from hubcore.errors import Invalid, NotFound
from hubcore.i18n import CORE_LOCALE_DIR
from hubcore.migrations import migrate
from hubcore.plugins import get_host
from hubcore.testing import make_site, registered, user_client

PACKAGE = Path(hubcore_noticeboard.__file__).parent
HTMX = {"HX-Request": "true"}
UTC = dt.UTC


@pytest.fixture
def board(database):
    """Site "a" with the notice board on, site "b" without.

    Installed (pip install), the plugin is an entry point and already in the migrated
    test databases; otherwise it is registered and migrated for the test.
    """
    with contextlib.ExitStack() as stack:
        if "noticeboard" not in get_host().plugins:
            stack.enter_context(registered(hubcore_noticeboard))
        migrate(get_host())
        yield make_site("a", plugins=("noticeboard",)), make_site("b")


@pytest.fixture
def web(board, settings):
    """A client on an app built after the plugin was registered (routes, catalogue)."""
    a, b = board
    with user_client(settings, ("site_manager", a), ("site_manager", b)) as client:
        yield client


def post(site, title, body="", show_until=None, pinned=False, now=None):
    return ops.create_notice(site, NoticeIn(title=title, body=body, show_until=show_until,
                                            pinned=pinned), now=now)


# --- operations ---------------------------------------------------------------------


def test_current_notices_come_pinned_first_then_newest(board):
    a, b = board
    post(a, "古いお知らせ")
    post(a, "固定のお知らせ", pinned=True)
    post(a, "新しいお知らせ")
    post(b, "別の拠点のお知らせ")
    assert [n.title for n in ops.current_notices(a)] == ["固定のお知らせ", "新しいお知らせ",
                                                         "古いお知らせ"]
    assert [n.title for n in ops.current_notices(a, limit=2)] == ["固定のお知らせ",
                                                                  "新しいお知らせ"]


def test_a_notice_is_shown_through_its_last_day_in_tokyo(board):
    a, _ = board
    assert a.timezone == "Asia/Tokyo"
    post(a, "4月3日まで", show_until=dt.date(2026, 4, 3), now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    post(a, "期限なし", now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    last_minute = dt.datetime(2026, 4, 3, 14, 59, tzinfo=UTC)  # 4月3日 23:59 in Tokyo
    midnight = dt.datetime(2026, 4, 3, 15, 0, tzinfo=UTC)  # 4月4日 0:00 in Tokyo, still 3 April UTC
    assert ops.site_today(a, midnight) == dt.date(2026, 4, 4)
    assert [n.title for n in ops.current_notices(a, now=last_minute)] == ["期限なし", "4月3日まで"]
    assert [n.title for n in ops.current_notices(a, now=midnight)] == ["期限なし"]
    a.timezone = "UTC"  # the site's own zone decides, not a fixed one
    assert len(ops.current_notices(a, now=midnight)) == 2


def test_a_last_day_before_today_at_the_site_is_refused(board):
    a, _ = board
    now = dt.datetime(2026, 4, 3, 16, 0, tzinfo=UTC)  # 4月4日 1:00 in Tokyo
    with pytest.raises(Invalid) as exc:
        post(a, "昨日まで", show_until=dt.date(2026, 4, 3), now=now)
    assert set(exc.value.errors) == {"show_until"}
    assert Notice.select().count() == 0
    assert post(a, "今日まで", show_until=dt.date(2026, 4, 4), now=now).id


def test_taking_a_notice_down_archives_it(board):
    a, _ = board
    notice = post(a, "会議室の貸出を休止します")
    ops.archive_notice(notice)
    assert ops.current_notices(a) == []
    kept = Notice.get_by_id(notice.id)  # not deleted
    assert kept.archived_at is not None and kept.title == "会議室の貸出を休止します"
    ops.archive_notice(ops.get_notice(a, notice.id))  # again: nothing changes
    assert Notice.get_by_id(notice.id).archived_at == kept.archived_at


def test_a_notice_belongs_to_its_site(board):
    a, b = board
    notice = post(b, "えきまえのお知らせ")
    with pytest.raises(NotFound):
        ops.get_notice(a, notice.id)
    with pytest.raises(NotFound):
        ops.get_notice(a, "x")


def test_the_form_schema_takes_what_a_browser_sends():
    data = NoticeIn.model_validate({"title": " （金）こども食堂 ",
                                    "show_until": "２０２６－０４－０３", "pinned": "on"})
    assert data.title == "（金）こども食堂"  # full-width brackets kept as typed
    assert data.show_until == dt.date(2026, 4, 3) and data.pinned is True
    assert NoticeIn.model_validate({"title": "x"}).pinned is False


def test_the_demo_adds_two_notices_per_site(board):
    from hubcore.demo import load_demo
    from hubcore.sites.models import Site

    load_demo()
    for site in Site.select().where(Site.slug.in_(["midorino-school", "ekimae-engawa"])):
        notices = ops.current_notices(site)
        assert len(notices) == 2, site.slug
        shokudo, taiso = notices
        assert shokudo.pinned and "こども食堂" in shokudo.title
        assert shokudo.show_until.weekday() == 4 and shokudo.show_until >= ops.site_today(site)
        assert "健康体操" in taiso.title and taiso.show_until is None


# --- pages ----------------------------------------------------------------------


def test_the_page_lists_the_notices_in_english_and_japanese(board, web):
    a, _ = board
    post(a, "健康体操は毎週火曜 10:00から", body="多目的室で。\n申込不要です。")
    en = web.get("/s/a/noticeboard/?lang=en")
    assert en.status_code == 200
    assert "<h1>Notice board</h1>" in en.text and "Post a notice" in en.text
    assert "健康体操は毎週火曜 10:00から" in en.text and "Shown until taken down" in en.text
    ja = web.get("/s/a/noticeboard/?lang=ja").text
    # From the plugin's own catalogue, merged by the app at start-up.
    for text in ("<h1>お知らせ掲示板</h1>", "掲載中のお知らせ", "取り下げるまで掲載", "掲載期限",
                 "上部に固定する", ">取り下げる<"):
        assert text in ja, text
    assert re.search(r'<a href="/s/a/noticeboard/"\s+aria-current="page">お知らせ</a>', ja)


def test_posting_with_htmx_answers_201_with_the_form_and_the_list(board, web):
    a, _ = board
    r = web.post("/s/a/noticeboard/", headers=HTMX,
                 data={"title": "こども食堂", "body": "17:00から", "pinned": "on",
                       "show_until": ops.site_today(a).isoformat()})
    assert r.status_code == 201
    assert "<html" not in r.text  # a fragment
    assert 'id="notice-form"' in r.text and "お知らせ「こども食堂」を掲載しました。" in r.text
    assert re.search(r'<div id="notice-list" hx-swap-oob="true">.*こども食堂', r.text, re.S)
    notice = Notice.get()
    assert (notice.title, notice.body, notice.pinned) == ("こども食堂", "17:00から", True)
    assert notice.show_until == ops.site_today(a)


def test_posting_without_htmx_redirects(board, web):
    r = web.post("/s/a/noticeboard/", data={"title": "休館日のお知らせ"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/s/a/noticeboard/"
    assert Notice.select().count() == 1


@pytest.mark.parametrize(("form", "message"), [
    ({"title": "", "body": "本文だけ"}, "タイトルを入力してください。"),
    ({"title": "x" * 101}, "タイトルは100文字以内で入力してください。"),
    ({"title": "先月の行事", "show_until": "2000-01-01"},
     "掲載期限には今日以降の日付を入力してください。"),
    ({"title": "日付の誤り", "show_until": "来週"}, "掲載期限は「2015-04-01」のような形式"),
])
def test_invalid_input_answers_422_and_saves_nothing(board, web, form, message):
    r = web.post("/s/a/noticeboard/", headers=HTMX, data=form)
    assert r.status_code == 422
    assert "<html" not in r.text and 'id="notice-form"' in r.text
    assert message in r.text and 'aria-invalid="true"' in r.text
    assert "まだ保存されていません" in r.text
    assert Notice.select().count() == 0
    page = web.post("/s/a/noticeboard/", data=form)  # without htmx: the whole page, 422
    assert page.status_code == 422 and "<html" in page.text and message in page.text
    assert Notice.select().count() == 0


def test_taking_down_with_htmx_answers_the_list_without_it(board, web):
    a, b = board
    keep = post(a, "残るお知らせ")
    gone = post(a, "取り下げるお知らせ")
    r = web.post(f"/s/a/noticeboard/{gone.id}/archive/", headers=HTMX)
    assert r.status_code == 200 and 'id="notice-list"' in r.text
    assert "お知らせ「取り下げるお知らせ」を取り下げました。" in r.text
    assert f'id="notice-{keep.id}"' in r.text and f'id="notice-{gone.id}"' not in r.text
    assert Notice.get_by_id(gone.id).archived_at is not None  # archived, not deleted
    r = web.post(f"/s/a/noticeboard/{keep.id}/archive/", follow_redirects=False)
    assert r.status_code == 303
    other = post(b, "別の拠点")
    assert web.post(f"/s/a/noticeboard/{other.id}/archive/").status_code == 404
    assert web.post("/s/a/noticeboard/99999/archive/").status_code == 404


def test_the_dashboard_widget_shows_current_notices_pinned_first(board, web):
    a, _ = board
    today = ops.site_today(a)
    post(a, "ふつうのお知らせ")
    post(a, "固定のお知らせ", pinned=True, show_until=today)
    Notice.create(site=a, title="期限切れのお知らせ", show_until=today - dt.timedelta(days=1))
    archived = post(a, "取り下げ済みのお知らせ")
    ops.archive_notice(archived)
    html = web.get("/s/a/?lang=ja").text
    assert "<h2>お知らせ</h2>" in html and "お知らせ掲示板を開く" in html
    assert html.index("固定のお知らせ") < html.index("ふつうのお知らせ")
    assert "期限切れのお知らせ" not in html and "取り下げ済みのお知らせ" not in html
    assert "ほかのお知らせは掲示板でご覧ください。" not in html
    for i in range(4):
        post(a, f"追加のお知らせ{i}")
    html = web.get("/s/a/").text  # six now: the widget shows five and points to the page
    assert "ほかのお知らせは掲示板でご覧ください。" in html
    assert "固定のお知らせ" in html and "ふつうのお知らせ" not in html


def test_where_the_plugin_is_off_it_answers_404_and_shows_nothing(board, web):
    _, b = board
    post(b, "見えないお知らせ")  # data may exist; the site just does not have the plugin on
    assert web.get("/s/b/noticeboard/").status_code == 404
    assert web.post("/s/b/noticeboard/", data={"title": "x"}).status_code == 404
    dashboard = web.get("/s/b/?lang=ja")
    assert dashboard.status_code == 200
    assert "見えないお知らせ" not in dashboard.text and "/s/b/noticeboard/" not in dashboard.text
    assert Notice.select().count() == 1


# --- the catalogue ------------------------------------------------------------------


def _plugin_catalogue():
    with (PACKAGE / "locale" / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale="ja")


def test_every_string_of_the_plugin_is_in_its_own_japanese_catalogue():
    methods = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = {(m[0] if isinstance(m, tuple) else m): f for f, _, m, _, _ in extract_from_dir(
        str(PACKAGE), methods, keywords={"_": None, "gettext": None, "N_": None},
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}})}
    assert "Notice board" in found and "Show until" in found  # templates and code both read
    cat = _plugin_catalogue()
    missing = [f"{m!r} ({w})" for m, w in found.items() if not (cat.get(m) and cat.get(m).string)]
    assert not missing, "missing from locale/ja/LC_MESSAGES/messages.po:\n" + "\n".join(missing)


def test_the_catalogue_keeps_placeholders_and_the_cores_wording():
    with (CORE_LOCALE_DIR / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        core = read_po(f, locale="ja")
    for msg in _plugin_catalogue():
        if not msg.id:
            continue
        assert set(re.findall(r"{\w+}", msg.id)) == set(re.findall(r"{\w+}", msg.string)), msg.id
        # The plugin's catalogue is merged after the core's: it must not reword the core.
        shared = core.get(msg.id)
        if shared is not None and shared.string:
            assert msg.string == shared.string, msg.id
