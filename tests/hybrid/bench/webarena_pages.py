"""Local pages (127.0.0.1) that reproduce what WebArena's sites show for real tasks of test.raw.json, and
the slice of Magento's REST API its shopping helpers read. Paths are the sites' own."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from hybrid.bench.webarena import WebArenaTask, load_webarena

TEST_RAW = (
    Path(__file__).parents[2] / "fixtures" / "benchmarks" / "webarena" / "config_files" / "test.raw.json"
)
ADMIN = ("admin", "admin1234")

PAGES = {
    # Task 600/615 (reddit): a post, and one of its comments' URLs, which reddit_get_post_url reduces to it.
    "/f/consoles/117/": """<title>Post</title><div class="submission__inner">
        <h1>what is the recommended console to buy these days</h1>
        <p>from /f/pics</p><img
          src="/submission_images/b02113033af32feae9ff147dbbe3764039368d67d193885bd04e65c2e6beea9c.jpg">
        </div>""",
    "/f/consoles/117/-/comment/9": """<title>Comment</title><div class="comment">I agree</div>""",
    # Task 481 (gitlab): the project's members page, as GitLab 15 renders its table.
    "/byteblaze/dotfiles/-/project_members": """<title>Members</title><table>
        <tr><td data-label="Account"><span class="gl-avatar-labeled-sublabel">@byteblaze</span></td>
            <td class="col-max-role"><span>Owner</span></td></tr>
        <tr><td data-label="Account"><span class="gl-avatar-labeled-sublabel">@abisubramanya27</span></td>
            <td class="col-max-role"><span>Guest</span></td></tr></table>""",
    # Task 699 (shopping_admin): the draft price-rule form, left unsaved; its actions section is collapsed.
    "/admin/sales_rule/promo_quote/new/": """<title>New Cart Price Rule</title><form>
        <input name="name"><select
          name="website_ids"><option>Main Website</option><option>Other</option></select>
        <select name="customer_group_ids"
          multiple><option>NOT LOGGED IN</option><option>General</option></select>
        <div data-index="actions"><div class="admin__collapsible-title" onclick="openActions()">Actions</div>
          <div id="actions"></div></div></form>
        <script>
        // Magento renders a collapsed section's fields only once it is opened.
        function openActions() {
          if (document.querySelector("[name=simple_action]")) return;
          document.getElementById("actions").innerHTML = `<select name="simple_action">
            <option value="by_percent">Percent of product price discount</option>
            <option value="cart_fixed">Fixed amount discount for whole cart</option></select>
            <input name="discount_amount">`;
        }
        </script>""",
    # Task 118 (shopping): search results; the check reads the whole page.
    "/catalogsearch/result/?q=mouth+guard": """<title>Search results for: 'mouth guard'</title>
        <h1>Search results for: &#39;mouth guard&#39;</h1>
        <p>Night guard for jaw bruxism &amp; grinding</p>""",
    # Task 45 (gitlab): the issues list the task asks for.
    "/a11yproject/a11yproject.com/-/issues/?sort=created_asc&state=opened": "<title>Issues</title>",
    "/a11yproject/a11yproject.com/-/issues/?state=opened": "<title>Issues</title>",
    # Task 436 (shopping): the order the latest-order helper points at.
    "/sales/order/view/order_id/190/": """<title>Order # 000000190</title><table
        class="order-details-items ordered">
        <tr><td>Mattress foundation</td><td>SKU B07DFJ5XKH</td></tr></table>""",
}


class Pages:
    """The pages above on a free 127.0.0.1 port, with Magento's token, orders and reviews endpoints."""

    def __init__(self) -> None:
        pages = PAGES

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if (
                    self.path == "/rest/default/V1/integration/admin/token"
                    and (
                        body["username"],
                        body["password"],
                    )
                    == ADMIN
                ):
                    self._send(200, json.dumps("admin-token"), "application/json")
                else:
                    self._send(401, json.dumps({"message": "wrong account"}), "application/json")

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/rest/V1/"):
                    if self.headers.get("Authorization") != "Bearer admin-token":
                        self._send(401, "{}", "application/json")
                    elif path == "/rest/V1/orders":
                        self._send(
                            200, json.dumps({"items": [{"increment_id": "000000190"}]}), "application/json"
                        )
                    else:
                        reviews = [
                            {"nickname": "Sam", "ratings": [{"rating_name": "Rating", "percent": 40}]},
                            {"nickname": "Cathy", "ratings": [{"rating_name": "Rating", "percent": 80}]},
                        ]
                        self._send(200, json.dumps(reviews), "application/json")
                    return
                html = pages.get(self.path)
                self._send(200 if html else 404, html or "<title>Not found</title>", "text/html")

            def _send(self, status: int, text: str, kind: str) -> None:
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def webarena_pages() -> Iterator[Pages]:
    pages = Pages()
    try:
        yield pages
    finally:
        pages.close()


@functools.cache
def published(task_id: int) -> WebArenaTask:
    """Task `task_id` of WebArena's test.raw.json, as published."""
    return next(t for t in load_webarena(TEST_RAW).tasks if t.task_id == task_id)
