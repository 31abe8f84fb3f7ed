"""Small pages with the widgets real apps use, written by hand to behave as the libraries do (a checkbox
re-rendered on change, a date mask, custom drop-downs, hidden file fields, a drop zone, a virtualised list,
loaders), served on 127.0.0.1 for the action tests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTRIES = [
    "Austria",
    "Belgium",
    "Croatia",
    "Denmark",
    "Estonia",
    "Finland",
    "France",
    "Germany",
    "Greece",
    "Hungary",
    "Ireland",
    "Italy",
    "Latvia",
    "Norway",
    "Poland",
    "Portugal",
    "Spain",
    "Sweden",
]

PAGES = {
    # Re-rendered on change, as a React component with a key would be: the clicked element is replaced.
    "/rerendered-checkbox": """<title>Newsletter</title><div id="box"></div><p id="state">subscribed: no</p>
        <script>
        function render(checked) {
          document.getElementById("box").innerHTML =
            `<label><input type="checkbox" id="c" ${checked ? "checked" : ""}> Subscribe</label>`;
          document.getElementById("c").addEventListener("change", (e) => {
            document.getElementById("state").textContent = "subscribed: " + (e.target.checked ? "yes" : "no");
            render(e.target.checked);
          });
        }
        render(false);
        </script>""",
    "/switch": """<title>Switch</title><div role="switch" aria-checked="false" tabindex="0"
        aria-label="Dark mode" onclick="this.setAttribute('aria-checked',
          this.getAttribute('aria-checked') === 'true' ? 'false' : 'true')">
        Dark mode</div>
        <label><input type="checkbox" id="locked"> Locked in</label>
        <script>
        document.getElementById("locked").addEventListener("click", (e) => e.preventDefault());
        </script>""",
    # A date mask as input-mask libraries make one: it keeps the typed digits and rewrites the field from
    # them on every input, so a value set from outside (a paste, Playwright's fill) is undone.
    "/masked-date": """<title>Due date</title><label for="d">Due date</label><input id="d" value="01/01/2024">
        <p id="out">Due: 01/01/2024</p>
        <script>
        const d = document.getElementById("d");
        let digits = "01012024";
        const show = () => {
          const t = (digits + "________").slice(0, 8);
          d.value = digits ? `${t.slice(0, 2)}/${t.slice(2, 4)}/${t.slice(4)}` : "";
          document.getElementById("out").textContent = "Due: " + d.value;
        };
        d.addEventListener("keydown", (e) => {
          if (e.ctrlKey || e.metaKey) return;
          if (/^[0-9]$/.test(e.key)) { if (digits.length < 8) digits += e.key; }
          else if (e.key === "Backspace") {
            digits = d.selectionStart === 0 && d.selectionEnd === d.value.length ? "" : digits.slice(0, -1);
          } else if (e.key.length !== 1) return;
          e.preventDefault();
          show();
        });
        d.addEventListener("input", show);
        </script>""",
    # A searchable combobox as select2 makes one: a span that opens a search field over a listbox showing
    # the first five matches; choosing writes the hidden native select.
    "/combobox": """<title>Combobox</title><form><select name="country" id="native" hidden><option
      value="">-</option>
        COUNTRY_OPTIONS</select>
        <span role="combobox" aria-label="Country" aria-expanded="false" aria-controls="lb" tabindex="0"
          id="cb">
        Choose a country</span></form>
        <div id="pop" hidden><input id="search" aria-label="Search countries" aria-controls="lb">
        <ul role="listbox" id="lb"></ul></div><p id="out">country=</p>
        <script>
        const all = COUNTRIES, cb = document.getElementById("cb"), pop = document.getElementById("pop");
        const search = document.getElementById("search"), lb = document.getElementById("lb");
        const render = (q) => {
          lb.innerHTML = all.filter((c) => c.toLowerCase().includes(q.toLowerCase())).slice(0, 5)
            .map((c) => `<li role="option">${c}</li>`).join("");
        };
        cb.addEventListener("click", () => {
          pop.hidden = false; cb.setAttribute("aria-expanded", "true");
          search.value = ""; render(""); search.focus();
        });
        search.addEventListener("input", () => render(search.value));
        search.addEventListener("keydown", (e) => { if (e.key === "Escape") pop.hidden = true; });
        lb.addEventListener("click", (e) => {
          const choice = e.target.closest("[role=option]").textContent;
          cb.textContent = choice; document.getElementById("native").value = choice;
          document.getElementById("out").textContent = "country=" + choice;
          pop.hidden = true; cb.setAttribute("aria-expanded", "false");
        });
        </script>""",
    # A drop-down as MUI's Select makes one: not searchable, its list in a portal at the end of the body,
    # options without text inputs; react-select's options carry only classes.
    "/listbox-select": """<title>Size</title><div role="combobox" aria-haspopup="listbox" aria-label="Size"
      tabindex="0"
        id="size" onclick="document.getElementById('portal').hidden = false">Medium</div><p
          id="out">size=Medium</p>
        <div id="portal" hidden><ul role="listbox"><li role="option">Small</li><li role="option">Medium</li>
        <li role="option">Large</li><li role="option">Extra large</li></ul></div>
        <script>
        document.getElementById("portal").addEventListener("click", (e) => {
          const text = e.target.closest("[role=option]").textContent;
          document.getElementById("size").textContent = text;
          document.getElementById("out").textContent = "size=" + text;
          document.getElementById("portal").hidden = true;
        });
        </script>
        <div role="combobox" aria-label="Broken" tabindex="0">Opens nothing</div>
        <div class="rs-control"><input role="combobox" aria-label="Colour" id="colour"></div>
        <div class="rs-menu" id="menu" hidden><div class="rs-option">Red</div><div
          class="rs-option">Green</div>
        <div class="rs-option">Blue</div></div><p id="colour-out">colour=</p>
        <script>
        const colour = document.getElementById("colour"), menu = document.getElementById("menu");
        colour.addEventListener("mousedown", () => { menu.hidden = false; });
        menu.addEventListener("mousedown", (e) => {
          e.preventDefault();
          const option = e.target.closest(".rs-option");
          if (!option) return;
          document.getElementById("colour-out").textContent = "colour=" + option.textContent;
          colour.value = option.textContent; menu.hidden = true;
        });
        </script>""",
    # File fields: a plain one, one hidden behind a styled button, and a drop zone that reads what is dropped.
    "/upload": """<title>Upload</title>
        <input type="file" aria-label="Attachment" id="plain"><p id="plain-out">attachment: none</p>
        <button type="button" onclick="document.getElementById('avatar').click()">Choose avatar</button>
        <input type="file" id="avatar" style="display:none"><p id="avatar-out">avatar: none</p>
        <div role="button" tabindex="0" aria-label="Drop files here" id="zone"
          style="width:200px;height:80px;border:1px dashed gray">Drop files here</div>
        <p id="dropped">dropped: nothing</p>
        <button type="button">Not a file field</button>
        <script>
        const show = (field, out, label) => field.addEventListener("change", async () => {
          const file = field.files[0];
          document.getElementById(out).textContent = `${label}: ${file.name} ${await file.text()}`;
        });
        show(document.getElementById("plain"), "plain-out", "attachment");
        show(document.getElementById("avatar"), "avatar-out", "avatar");
        const zone = document.getElementById("zone");
        zone.addEventListener("dragover", (e) => e.preventDefault());
        zone.addEventListener("drop", async (e) => {
          e.preventDefault();
          const file = e.dataTransfer.files[0];
          document.getElementById("dropped").textContent = `dropped: ${file.name} ${await file.text()}`;
        });
        </script>""",
    # A virtualised list as react-window draws one: only the rows in sight exist; 200 in all.
    "/virtual-list": """<title>Events</title><h1>Events</h1>
        <div role="listbox" aria-label="Events" id="list" tabindex="0"
          style="height:150px;overflow:auto;position:relative;width:300px">
          <div id="spacer" style="height:6000px"></div></div>
        <script>
        const list = document.getElementById("list"), ROW = 30, TOTAL = 200;
        const draw = () => {
          const first = Math.floor(list.scrollTop / ROW);
          const last = Math.min(TOTAL, Math.ceil((list.scrollTop + 150) / ROW));
          list.querySelectorAll("[role=option]").forEach((row) => row.remove());
          for (let i = first; i < last; i++) {
            const row = document.createElement("div");
            row.setAttribute("role", "option"); row.setAttribute("aria-posinset", i + 1);
            row.setAttribute("aria-setsize", TOTAL);
            row.style = `position:absolute;top:${i * ROW}px;height:${ROW}px`;
            row.textContent = `Event ${i + 1}`;
            list.appendChild(row);
          }
        };
        list.addEventListener("scroll", () => requestAnimationFrame(draw));
        draw();
        </script>""",
    # A single-page app's first paint: a loader image, then the content a moment later, without requests.
    "/spa": """<title>App</title><img src="/static/loader.gif" alt="Loading" class="app-loader"
          style="width:32px;height:32px;display:block;background:#ccc">
        <main id="app"></main>
        <script>setTimeout(() => {
          document.querySelector(".app-loader").remove();
          document.getElementById("app").innerHTML = "<h1>Dashboard</h1><p>Report ready</p>";
        }, 700);</script>""",
    "/spa-busy": """<title>Busy</title><section aria-busy="true" id="s"><p>Fetching orders</p></section>
        <script>setTimeout(() => {
          const s = document.getElementById("s");
          s.innerHTML = "<p>12 orders</p>"; s.setAttribute("aria-busy", "false");
        }, 600);</script>""",
    "/spa-stuck": """<title>Stuck</title><div class="spinner" style="width:20px;height:20px;background:#ccc"
        aria-label="Loading"></div>""",
    # A folder that slides open with a CSS transition and shows its files only when the transition ends.
    "/folder": """<title>Folder</title><button onclick="document.getElementById('f').classList.add('open')">
        Open src</button><div id="f"></div>
        <style>#f { height: 0; overflow: hidden; transition: height 0.4s } #f.open { height: 60px }</style>
        <script>document.getElementById("f").addEventListener("transitionend", (e) => {
          e.target.innerHTML = "<p>Button.tsx</p>"; });</script>""",
    # Renders in steps, a frame apart, as frameworks do after their data arrives.
    "/steps": """<title>Steps</title><ol id="o"></ol><script>
        let n = 0;
        const step = () => {
          n += 1; document.getElementById("o").insertAdjacentHTML("beforeend", `<li>Step ${n}</li>`);
          if (n < 8) setTimeout(step, 40); };
        setTimeout(step, 40);
        </script>""",
    # Web components as Shoelace makes them: a combobox whose listbox and options live in its shadow root,
    # and a checkbox whose input a styled box of its own label covers.
    "/shadow-widgets": """<title>Profile</title>
        <x-select label="Team"></x-select><p id="team">team=</p>
        <x-checkbox>Remember me</x-checkbox><p id="remember">remember=no</p>
        <script>
        customElements.define("x-select", class extends HTMLElement {
          connectedCallback() {
            const root = this.attachShadow({ mode: "open" });
            root.innerHTML = `<label id="name">${this.getAttribute("label")}</label>
              <div role="combobox" aria-labelledby="name" aria-controls="list" aria-expanded="false"
                tabindex="0"
                id="box">Choose</div>
              <ul role="listbox" id="list" hidden><li role="option">Design</li><li
                role="option">Engineering</li>
              <li role="option">Sales</li></ul>`;
            const box = root.getElementById("box"), list = root.getElementById("list");
            const show = (open) => { list.hidden = !open; box.setAttribute("aria-expanded", String(open)); };
            box.addEventListener("click", () => show(list.hidden));
            list.addEventListener("click", (e) => {
              box.textContent = e.target.closest("[role=option]").textContent;
              document.getElementById("team").textContent = "team=" + box.textContent;
              show(false);
            });
          }
        });
        customElements.define("x-checkbox", class extends HTMLElement {
          connectedCallback() {
            const root = this.attachShadow({ mode: "open" });
            root.innerHTML = `<style>label { position: relative; display: inline-flex; gap: 4px }
              input { position: absolute; left: 0; top: 0; margin: 0; width: 16px; height: 16px }
              .box { position: relative; width: 16px; height: 16px; border: 1px solid #444 }</style>
              <label><input type="checkbox"><span class="box"></span><slot></slot></label>`;
            root.querySelector("input").addEventListener("change", (e) => {
              document.getElementById("remember").textContent =
                "remember=" + (e.target.checked ? "yes" : "no");
            });
          }
        });
        </script>""",
    # A cascading drop-down as antd's Cascader: each choice opens the next level's menu beside the last, on a
    # page with a tree of its own in sight.
    "/cascader": """<title>Location</title>
        <ul role="tree" aria-label="Sections"><li role="treeitem">Overview</li><li
          role="treeitem">Settings</li></ul>
        <div role="combobox" aria-label="Location" aria-expanded="false" tabindex="0"
          id="place">Choose a place</div>
        <div id="menus" hidden></div><p id="out">location=</p>
        <script>
        const PLACES = {
          Europe: { France: ["Paris", "Lyon"], Germany: ["Berlin"] }, Asia: { Japan: ["Tokyo"] } };
        const place = document.getElementById("place"), menus = document.getElementById("menus");
        let path = [];
        const children = (steps) => {
          let node = PLACES;
          for (const step of steps) {
            node = Array.isArray(node) ? null : node[step]; if (!node) return null;
          }
          return Array.isArray(node) ? node : Object.keys(node);
        };
        const render = () => {
          let html = "";
          for (let level = 0; level <= path.length; level++) {
            const items = children(path.slice(0, level));
            if (items) html += `<ul role="menu" data-level="${level}" style="display:inline-block">`
              + items.map((item) => `<li role="menuitem">${item}</li>`).join("") + "</ul>";
          }
          menus.innerHTML = html;
        };
        place.addEventListener("click", () => {
          path = []; render(); menus.hidden = false; place.setAttribute("aria-expanded", "true");
        });
        menus.addEventListener("click", (e) => {
          const item = e.target.closest("[role=menuitem]");
          path = path.slice(0, Number(item.parentElement.dataset.level)).concat(item.textContent);
          if (children(path)) { render(); return; }
          place.textContent = path.join(" / ");
          document.getElementById("out").textContent = "location=" + path.join("/");
          menus.hidden = true; place.setAttribute("aria-expanded", "false");
        });
        </script>""",
}
PAGES["/combobox"] = (
    PAGES["/combobox"]
    .replace("COUNTRY_OPTIONS", "".join(f"<option>{c}</option>" for c in COUNTRIES))
    .replace("COUNTRIES", repr(COUNTRIES))
)


class ActionPages:
    """Serves `PAGES` (and a grey pixel for any image) on a free port of 127.0.0.1 until closed."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path.startswith("/static/"):
                    self._send(
                        200,
                        "image/gif",
                        bytes.fromhex(
                            "47494638396101000100800000cccccc00000021f9040000"
                            "0000002c00000000010001000002024401003b"
                        ),
                    )
                    return
                html = PAGES.get(path)
                self._send(
                    200 if html else 404, "text/html; charset=utf-8", (html or "<p>No such page").encode()
                )

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
