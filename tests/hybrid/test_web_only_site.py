"""A site with only a web UI, added by `hybrid sites add NAME --web-url URL` and used end to end by
`hybrid run` (the browser starts at its web URL, so paths work from the first call), and a file of the
user's given to the run with `--file` and uploaded by the agent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from hybrid.cli import cli
from tests.hybrid.test_cli import scripted

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

PAGES = {
    "/": "<title>Acme Deploy</title><h1>Acme Deploy</h1><a href='/deployments'>Deployments</a>",
    "/deployments": """<title>Deployments</title><table><tr><th>Name</th><th></th></tr>
        <tr><td>web</td><td><form method="post" action="/deployments/web/restart"><button>Restart web</button>
        </form></td></tr>
        <tr><td>api</td><td><form method="post" action="/deployments/api/restart"><button>Restart api</button>
        </form></td></tr></table>""",
    "/profile": """<title>Profile</title><form method="post" action="/profile" enctype="multipart/form-data">
        <label>Avatar <input type="file" name="avatar"></label><button>Save</button></form>""",
}


class WebApp:
    """A web app with no API: what it was sent is in `received`."""

    def __init__(self) -> None:
        self.received: list[tuple[str, object]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _page(self, body: str) -> None:
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._page(PAGES.get(self.path, "<title>Not found</title>"))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/profile":  # multipart: the file's name and bytes
                    head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                    form = BytesParser(policy=HTTP).parsebytes(head + body)
                    part = next(iter(form.iter_parts()))
                    app.received.append((self.path, (part.get_filename(), part.get_payload(decode=True))))
                else:
                    app.received.append((self.path, None))
                self._page("<title>Done</title><p>Saved.</p>")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def web_app() -> Iterator[WebApp]:
    app = WebApp()
    yield app
    app.close()


def test_a_site_with_only_a_web_ui_is_added_and_used_from_its_web_url(settings, web_app, tmp_path) -> None:
    added = CliRunner().invoke(cli, ["sites", "add", "acme-deploy", "--web-url", web_app.url])
    assert added.exit_code == 0, added.output
    assert "web UI only" in added.output
    listed = CliRunner().invoke(cli, ["sites", "list"])
    assert "acme-deploy" in listed.output and "(web UI only)" in listed.output
    steps = [
        'print(browser.goto("/deployments"))',  # a path: the browser started at the site's web URL
        'print(browser.click(browser.find("button", "Restart web")))',
        'finish("Restarted web")',
    ]
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "Restart the web deployment",
            "--json",
            "--policy",
            "allow",
            "--model",
            scripted(tmp_path, steps),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "finished"
    assert web_app.received == [("/deployments/web/restart", None)]


def test_a_file_given_to_a_run_is_uploaded_from_the_kernels_work_dir(settings, web_app, tmp_path) -> None:
    assert CliRunner().invoke(cli, ["sites", "add", "acme", "--web-url", web_app.url]).exit_code == 0
    avatar = tmp_path / "mine" / "avatar.png"
    avatar.parent.mkdir()
    avatar.write_bytes(b"\x89PNG not really")
    steps = [
        'import os; print(os.listdir("."), os.access("avatar.png", os.W_OK))',
        'browser.goto("/profile"); print(browser.upload(browser.find("button", "Avatar"), "avatar.png"))',
        'print(browser.click(browser.find("button", "Save")))',
        'finish("Uploaded")',
    ]
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "Upload my avatar",
            "--file",
            str(avatar),
            "--policy",
            "allow",
            "--model",
            scripted(tmp_path, steps),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "['avatar.png'] False" in result.output  # its copy, read-only
    assert web_app.received == [("/profile", ("avatar.png", b"\x89PNG not really"))]
