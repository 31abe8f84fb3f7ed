"""The browser actions as `BrowserService` methods, for type checkers. Generated from
`sandbox.browser.registry.ACTIONS` by `write_method_stubs()`: do not edit."""

from typing import Any

class ActionMethods:
    def goto(self, url: str) -> str:
        """Open a URL, or a path resolved against the current page's URL."""

    def observe(self) -> str:
        """The current page as a compact accessibility tree, with an id for each element to act on."""

    def text(self) -> str:
        """The page's readable text (frames included), after its URL."""

    def screenshot(self, full_page: bool = False) -> str:
        """Save a PNG of the current tab and return its path on the host."""

    def find(self, role: str, name: str) -> int:
        """The id of the one element with this role and accessible name, e.g. find("button", "Save")."""

    def back(self) -> str:
        """Go back one page in the tab's history."""

    def forward(self) -> str:
        """Go forward one page in the tab's history."""

    def scroll(self, target: int | str = "down", direction: str | None = None) -> str:
        """Scroll the page (`scroll("down")`), or the container an element is or is in (`scroll(id, "down")`):
        down, up, top, bottom (and left, right for a container)."""

    def click(self, element_id: int) -> str:
        """Click an element."""

    def right_click(self, element_id: int) -> str:
        """Right-click an element, as for the menu a page draws on it; says what the page then shows."""

    def double_click(self, element_id: int) -> str:
        """Double-click an element, as to open it or edit it in place."""

    def fill(self, element_id: int, text: str) -> str:
        """Replace the text in a textbox. A field that formats what it is given (a date mask, say) and so
        does not take the text whole is cleared and typed into key by key; the value it ends up holding is
        reported."""

    def select(self, element_id: int, option: str) -> str:
        """Choose a drop-down's option by its label (or value): a native <select>, or a custom drop-down that
        opens a list of options when clicked (ARIA combobox/listbox, select2, react-select, MUI, antd, web
        components such as Shoelace's), typed into when it is searchable; in a cascading one, a path such as
        "Europe / France / Paris". Says what the drop-down shows afterwards."""

    def check(self, element_id: int, checked: bool = True) -> str:
        """Tick (or with checked=False, untick) a checkbox or radio button, and say the state it then has."""

    def upload(self, element_id: int, path: str) -> str:
        """Upload a file from the kernel's working directory (`path` relative to it) to a file field (even
        one hidden behind a styled button), the button or label that opens one, or a drop zone."""

    def press(self, key: str, element_id: int | None = None) -> str:
        """Press a key (Enter, Tab, Escape, Control+A...) in the focused element or in `element_id`."""

    def wait_for(self, target: str | int, timeout: float | None = None) -> str:
        """Wait until a text appears on the page, or an observed element becomes visible and enabled."""

    def answer_dialogs(self, accept: bool = True, text: str | None = None) -> str:
        """How to answer the page's alert/confirm/prompt dialogs from now on (default: accept)."""

    def tabs(self) -> list[dict[str, Any]]:
        """The open tabs: index, url, title, and which is current."""

    def switch(self, index: int) -> str:
        """Make tab `index` current and show it."""

    def login(self, site: str) -> str:
        """Sign in to a site's web UI with the credentials configured on the host."""

    def cookies(self, url: str) -> list[dict[str, Any]]:
        """The browser's cookies for `url`, to share its web session with the site's API client."""

    def process_id(self) -> int:
        """The browser process's id, for the host's resource monitoring."""
