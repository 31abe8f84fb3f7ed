// Walks one frame's DOM and returns a compact text accessibility tree.
//
// Interactive elements get a numeric id stored in a DOM attribute, so the same element keeps its id
// across observations of one document and ids are never reused (the host hands out `nextId`).
// Hidden and presentational nodes are dropped; block elements become lines and inline content
// (text, links, inputs) is joined on one line, which is what keeps the result a small fraction of
// the HTML. Iframes become placeholder lines that the host fills with the child frame's walk.
// Composite widgets (listbox, menu, tree, grid) are walked with an id on each part; an open modal dialog
// comes first, since nothing behind it can be used; elements without a role that handle clicks (a pointer
// cursor, onclick, tabindex: frameworks attach their listeners at the root) get an id, the outermost only.
({ nextId, listLimit, optionLimit, textLimit, attr, iframeMarker }) => {
  if (!window.__hybridDoc) window.__hybridDoc = Math.random().toString(36).slice(2);
  let next = nextId;
  const elements = [];
  const lines = [];
  let buffer = [];
  let emitting = true;
  let cell = null; // the table cell being walked (everything in it stays on the row's line), and the text
  let columnHeader = ""; // of its column's header
  let items = null; // the composite widget being walked: its items so far, how many to show, their role
  let skipped = null; // the modal dialog, walked first and not again in its place
  let rowText = ""; // the cells' texts of the table row being walked, which find() can name a control by
  let drawnDialog = null; // a modal drawn without a role (see drawnModal), which names its close mark

  const INTERACTIVE = new Set(["button", "link", "checkbox", "radio", "textbox", "searchbox", "combobox",
    "listbox", "slider", "spinbutton", "switch", "tab", "menuitem", "menuitemcheckbox",
    "menuitemradio", "option", "treeitem"]);
  const FIELDS = new Set(["textbox", "searchbox", "combobox", "listbox", "slider", "spinbutton"]);
  // Parts of composite widgets: a line each, so a menu or a drop-down reads as a list.
  const ITEMS = new Set(["option", "menuitem", "menuitemcheckbox", "menuitemradio", "treeitem"]);
  const ITEM_OF = { listbox: "option", menu: "menuitem", menubar: "menuitem", tree: "treeitem" };
  const COMPOSITES = new Set(Object.keys(ITEM_OF));
  const GRIDS = new Set(["grid", "treegrid"]);
  const CELLS = "[role=gridcell], [role=cell], [role=columnheader], [role=rowheader]";
  const NATIVE_FIELDS = new Set(["INPUT", "SELECT", "TEXTAREA"]);
  const NAMED_BY_ROW = new Set([...FIELDS, "checkbox", "radio", "switch"]);
  const CONTROLS = "input:not([type=hidden]), select, textarea, button, a[href], [role], [contenteditable]";
  const USABLE = "input:not([type=hidden]), select, textarea, button, a[href], [contenteditable], [onclick], "
    + [...INTERACTIVE].map((r) => `[role=${r}]`).join(", ");
  const LABELLABLE = "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit])"
    + ":not([type=reset]):not([type=button]):not([type=image]), select, textarea, [role=combobox], "
    + "[role=textbox], [role=searchbox], [role=listbox], [role=spinbutton], [role=slider]";
  // Where a search for a field's nearby label stops: past these, text belongs to other things.
  const LABEL_BOUNDARY = "form, fieldset, table, tr, ul, ol, li, dl, body, dialog, [role=dialog], [role=grid], "
    + "[role=listbox], [role=menu], [role=group], [role=listitem], [role=row]";
  const NAME_FROM_CONTENT = new Set(["button", "link", "checkbox", "radio", "switch", "tab", "menuitem",
    "menuitemcheckbox", "menuitemradio", "option", "treeitem", "heading", "cell", "gridcell", "columnheader",
    "rowheader", "row", "clickable"]);
  const CLICKED_MARKS = new Set(["button", "link", "clickable"]);
  const SHORT_TEXT = 150; // a label or a clickable's name; longer, it is text to read
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "TITLE"]);
  const TEXT_INPUTS = new Set(["", "text", "email", "tel", "url", "password", "search"]);

  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const labelText = (s) => norm(s).replace(/\s*:$/, ""); // "Type:" as a label reads; the name is "Type"
  // A form's own action, read through the prototype: a control named "action" shadows `form.action`.
  const actionOf = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "action").get;
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
  const quote = (s) => JSON.stringify(clip(s, textLimit));

  function roleOf(el) {
    const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
    if (explicit) return explicit;
    const tag = el.tagName;
    // Only options, tabs, rows and cells can be selected; outside a table, a widget that left the role off
    // means an option, but a control keeps its own role (a design system marks every button).
    if (el.hasAttribute("aria-selected") && !["TR", "TD", "TH", "A", "BUTTON", "INPUT", "SELECT"].includes(tag)) {
      return "option";
    }
    // A link without href that a script handles reads and clicks as a link.
    if (tag === "A") return el.hasAttribute("href") || clickSignal(el, true) ? "link" : "";
    if (tag === "AREA") return el.hasAttribute("href") ? "link" : "";
    if (tag === "BUTTON" || tag === "SUMMARY") return "button";
    if (tag === "INPUT") {
      const type = (el.getAttribute("type") || "").toLowerCase();
      if (["button", "submit", "reset", "image", "file", "color"].includes(type)) return "button";
      if (type === "hidden") return "";
      if (type === "checkbox" || type === "radio") return type;
      if (type === "range") return "slider";
      if (type === "number") return "spinbutton";
      if (el.list) return "combobox";
      return type === "search" ? "searchbox" : "textbox";
    }
    if (tag === "TEXTAREA") return "textbox";
    if (tag === "SELECT") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (/^H[1-6]$/.test(tag)) return "heading";
    if (tag === "UL" || tag === "OL" || tag === "MENU") return "list";
    if (tag === "LI") return "listitem";
    if (tag === "TABLE") return "table";
    if (tag === "DIALOG") return "dialog";
    if (tag === "IMG") return el.getAttribute("alt") === "" ? "presentation" : "img";
    if (tag === "IFRAME" || tag === "FRAME") return "iframe";
    if (el.isContentEditable && el.parentElement && !el.parentElement.isContentEditable) return "textbox";
    return "";
  }

  // A native drop-down that a script widget replaced and hid by clipping it to a pixel (tom-select), or a
  // listbox kept for screen readers only, at no size, beside the options shown (antd).
  function clippedAway(el) {
    if (el.tagName !== "SELECT" && el.getAttribute("role") !== "listbox") return false;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width <= 1 || box.height <= 1 || style.clipPath === "inset(50%)"
      || style.clip === "rect(0px, 0px, 0px, 0px)";
  }

  function rendered(el) {
    if (el.getAttribute("aria-hidden") === "true" || el.hidden || clippedAway(el)) return false;
    // display: contents has no box of its own, so checkVisibility() says false though children show.
    if (getComputedStyle(el).display === "contents") return true;
    return el.checkVisibility({ visibilityProperty: true });
  }

  function childrenOf(node) {
    if (node.shadowRoot) return node.shadowRoot.childNodes;
    if (node.tagName === "SLOT") {
      const assigned = node.assignedNodes({ flatten: true });
      return assigned.length ? assigned : node.childNodes;
    }
    return node.childNodes;
  }

  // Accessible name from content, a practical subset of the accname algorithm; `leaveOut(el)` drops parts.
  function textOf(node, leaveOut) {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE || SKIP.has(node.tagName) || (leaveOut && leaveOut(node))) return "";
    if (!rendered(node)) return "";
    const label = node.getAttribute("aria-label");
    if (label && label.trim()) return ` ${label} `;
    if (node.tagName === "IMG" || node.tagName === "AREA") return ` ${node.getAttribute("alt") || ""} `;
    if (node.tagName === "INPUT" && ["checkbox", "radio"].includes(node.type)) return " ";
    if (node.tagName === "INPUT" || node.tagName === "TEXTAREA") return ` ${node.value || ""} `;
    if (node.tagName === "SELECT") return ` ${[...node.selectedOptions].map((o) => o.text).join(" ")} `;
    if (node.tagName === "BR") return " ";
    let text = "";
    for (const child of childrenOf(node)) text += textOf(child, leaveOut);
    // An icon with a tooltip and no text (Django's calendar link) is named by the tooltip.
    if (!norm(text) && node.hasAttribute("title")) text = node.getAttribute("title");
    return getComputedStyle(node).display.startsWith("inline") ? text : ` ${text} `;
  }

  // A combobox that is not a native field shows its value as its content; many name it by that display
  // (aria-labelledby pointing inside itself), so what it refers to inside itself is its value, not its name.
  const isCustomCombobox = (el, role) => role === "combobox" && !NATIVE_FIELDS.has(el.tagName);

  function referenced(el, attribute) {
    const root = el.getRootNode(); // ids resolve in the element's own tree: a shadow root's, or the document
    return (el.getAttribute(attribute) || "").split(/\s+/).filter(Boolean)
      .map((id) => root.getElementById(id)).filter(Boolean);
  }

  // What a value display shows, its chips joined by ", "; icons, buttons (remove marks, "Open") and
  // placeholders left out.
  const notValue = (n) => ["img", "presentation", "none"].includes(n.getAttribute("role"))
    || /placeholder/i.test(n.getAttribute("class") || "") || n.matches(USABLE) || n.matches("label, legend");
  function shownValue(nodes) {
    let parts = nodes.filter((n) => norm(textOf(n, notValue)));
    while (parts.length === 1 && parts[0].nodeType === Node.ELEMENT_NODE && !parts[0].matches(LABELLABLE)) {
      const inner = [...childrenOf(parts[0])].filter((n) => norm(textOf(n, notValue)));
      if (inner.length === 0 || inner.some((n) => n.nodeType === Node.TEXT_NODE)) break;
      parts = inner;
    }
    return parts.map((n) => norm(textOf(n, notValue))).join(", ");
  }

  function valueOfCustomCombobox(el) {
    // select2 names its combobox by its value display, itself a read-only textbox
    const inside = referenced(el, "aria-labelledby").filter((ref) => el.contains(ref));
    if (inside.length) return norm(inside.map((ref) => textOf(ref, (n) => n !== ref && notValue(n))).join(" "));
    return shownValue([...childrenOf(el)]);
  }

  // A combobox input that shows its value beside itself, as a script widget's items (antd, tom-select,
  // react-select): the text of the smallest box around it that has some and holds no other field.
  function valueBeside(input) {
    let box = input.parentElement;
    for (let level = 0; level < 3 && box && !box.matches(LABEL_BOUNDARY); level++, box = box.parentElement) {
      if (box.querySelectorAll(LABELLABLE).length > 1) return "";
      const value = shownValue([...childrenOf(box)].filter((n) => !n.contains(input)));
      if (value) return value;
    }
    return "";
  }

  // The native field a script widget stands in for (select2, tom-select...): hidden, just before the widget.
  function replacedField(el) {
    let node = el;
    for (let level = 0; level < 3 && node; level++, node = node.parentElement) {
      const before = node.previousElementSibling;
      if (before && NATIVE_FIELDS.has(before.tagName) && !rendered(before)) return before;
    }
    return null;
  }

  // The label a person reads for a field with none in the markup: the text just before it in its form row
  // (a <label> without for=, a caption span), stopping at other fields and at the row's boundaries.
  function nearbyLabel(el) {
    let node = el;
    for (let level = 0; level < 3 && node.parentElement && !node.matches(LABEL_BOUNDARY); level++) {
      for (let before = node.previousSibling; before; before = before.previousSibling) {
        if (before.nodeType === Node.TEXT_NODE) {
          const text = labelText(before.textContent);
          if (text) return text.length <= SHORT_TEXT ? { text, from: before } : null;
          continue;
        }
        if (before.nodeType !== Node.ELEMENT_NODE || SKIP.has(before.tagName) || !rendered(before)) continue;
        if (before.matches(USABLE) || before.querySelector(USABLE)) return null; // the text of another control
        const text = labelText(textOf(before, null));
        // A label says something in words; a lone mark before a field (an app's "◆" logo) does not.
        if (text) return text.length <= SHORT_TEXT && /[\p{L}\p{N}]/u.test(text) ? { text, from: before } : null;
      }
      node = node.parentElement;
      if (node.querySelectorAll(LABELLABLE).length > 1) return null; // a block of several fields, not a row
    }
    return null;
  }

  function nameOf(el, role) {
    const custom = isCustomCombobox(el, role);
    const labelledBy = referenced(el, "aria-labelledby").filter((ref) => !custom || !el.contains(ref));
    const byReference = norm(labelledBy.map((ref) => textOf(ref, null)).join(" "));
    if (byReference) return byReference;
    const label = el.getAttribute("aria-label");
    if (label && label.trim()) return norm(label);
    const tag = el.tagName;
    if (tag === "INPUT") {
      const type = (el.getAttribute("type") || "").toLowerCase();
      if (type === "submit" || type === "reset" || type === "button") {
        return norm(el.value) || (type === "submit" ? "Submit" : type === "reset" ? "Reset" : "");
      }
      if (type === "image") return norm(el.alt || el.value) || "Submit";
    }
    const labelled = el.labels && el.labels.length ? el : (custom || FIELDS.has(role)) && replacedField(el);
    if (labelled && labelled.labels && labelled.labels.length) {
      const text = labelText([...labelled.labels].map((l) => textOf(l, (n) => n === labelled)).join(" "));
      if (text) return text;
    }
    if (custom || FIELDS.has(role)) {
      // A row of several fields under column headers (a formset, an editable grid): the header names each.
      if (cell && columnHeader && cell.parentElement.querySelectorAll(LABELLABLE).length > 1) return columnHeader;
      const nearby = nearbyLabel(el);
      // A search box after a logo is a search box: its placeholder says so where no <label> names it.
      const placeholder = norm(el.getAttribute("placeholder"));
      const searches = el.type === "search" || role === "searchbox" || /\b(search|find|filter)/i.test(placeholder);
      if (nearby && !(searches && placeholder && nearby.from.tagName !== "LABEL")) return nearby.text;
      if (placeholder) return placeholder;
      const legend = el.closest("fieldset") && el.closest("fieldset").querySelector(":scope > legend");
      if (legend && el.closest("fieldset").querySelectorAll(LABELLABLE).length === 1) {
        return labelText(textOf(legend, null));
      }
    }
    if (tag === "IMG") return norm(el.getAttribute("alt"));
    if (tag === "IFRAME" || tag === "FRAME") return norm(el.title || el.name);
    if (NAME_FROM_CONTENT.has(role)) {
      // A tree item's name is its own text, not its sub-items'.
      const leaveOut = role === "treeitem" ? (n) => n.getAttribute("role") === "group" || n.tagName === "UL" : null;
      let text = "";
      for (const child of childrenOf(el)) text += textOf(child, leaveOut);
      if (norm(text) && /[\p{L}\p{N}]/u.test(text)) return norm(text);
      if (norm(text) && CLICKED_MARKS.has(role)) {
        // A mark with no word of its own, with what says what it does: its tooltip ("× Remove", "☆ Star");
        // a dialog's "×" at its top closes it ("Close Share"); else what it sits beside ("× Smoker").
        const tooltip = norm(el.getAttribute("title"));
        if (tooltip) return `${norm(text)} ${tooltip}`;
        const closing = CLOSE_MARKS.has(norm(text)) && closeName(el);
        if (closing) return closing;
        return rowName(el) ? `${norm(text)} ${rowName(el)}` : norm(text);
      }
      if (norm(text)) return norm(text);
    }
    const titled = norm(el.getAttribute("title") || el.getAttribute("placeholder"));
    if (titled || !["button", "link", "clickable"].includes(role)) return titled;
    const icon = iconName(el);
    return (icon === "Close" && closeName(el)) || icon || (role === "clickable" ? rowName(el) : "");
  }

  // A dialog's close mark ("×", or an icon that says close) is named after the dialog, "Close Share", as a
  // person tells it from other dialogs' and from the "×" marks in its rows: when it sits at the dialog's top,
  // beside its heading or before any other control in it. Null for any other.
  const CLOSE_MARKS = new Set(["×", "✕", "✖", "✗", "✘", "╳", "⨯", "⨉", "🗙", "❌"]);
  function closeName(el) {
    const dialog = el.closest("dialog, [role=dialog], [role=alertdialog]")
      || (drawnDialog && drawnDialog.contains(el) ? drawnDialog : null);
    if (!dialog) return null;
    const heading = dialog.querySelector("h1, h2, h3, h4, h5, h6, [role=heading]");
    const box = el.getBoundingClientRect();
    const top = heading && heading.getBoundingClientRect();
    const besideHeading = top && box.top < top.bottom && box.bottom > top.top;
    const first = [...dialog.querySelectorAll(USABLE)].find((n) => rendered(n) && !el.contains(n));
    const firstControl = !first || Boolean(el.compareDocumentPosition(first)
      & Node.DOCUMENT_POSITION_FOLLOWING);
    if (!besideHeading && !firstControl) return null;
    const named = dialog === drawnDialog ? norm(dialog.getAttribute("aria-label")) : norm(nameOf(dialog, "dialog"));
    const title = named || (heading ? norm(textOf(heading, null)) : "");
    return title ? `Close ${clip(title, 80)}` : "Close";
  }

  // What an icon without text shows, by the words icon sets put in their classes (or an SVG's <title>):
  // a modal's "×" drawn as an SVG in a button of class "modal-close".
  const ICON_WORDS = { close: "Close", dismiss: "Close", x: "Close", times: "Close", trash: "Delete",
    delete: "Delete", remove: "Remove", edit: "Edit", pencil: "Edit", plus: "Add", add: "Add", search: "Search",
    menu: "Menu", hamburger: "Menu", settings: "Settings", gear: "Settings", cog: "Settings", more: "More",
    ellipsis: "More", kebab: "More", back: "Back", next: "Next", prev: "Previous", previous: "Previous",
    refresh: "Refresh", download: "Download", upload: "Upload", copy: "Copy", filter: "Filter", star: "Star" };
  function iconName(el) {
    for (const part of [el, ...el.querySelectorAll("*")].slice(0, 6)) {
      const title = part.tagName === "svg" && part.querySelector(":scope > title");
      if (title && norm(title.textContent)) return norm(title.textContent);
      const words = `${part.getAttribute("class") || ""} ${part.getAttribute("data-icon") || ""}`
        .toLowerCase().split(/[\s_-]+/);
      const known = words.find((word) => ICON_WORDS[word]);
      if (known) return ICON_WORDS[known];
    }
    return "";
  }

  // A control with no text of its own (a toggle drawn as a div) is named by the row it sits in, as a person
  // reads "Email notifications [toggle]": the text of the smallest box around it that holds no other
  // control. Past SHORT_TEXT the box is a region, not a row.
  function rowName(el) {
    let box = parentOf(el);
    for (let level = 0; level < 3 && box && box.nodeType === Node.ELEMENT_NODE && box !== document.body;
      level++, box = parentOf(box)) {
      const others = [...box.querySelectorAll("*")].some((n) => !el.contains(n) && !n.contains(el)
        && (n.matches(USABLE) || pointerOf(n, false)));
      if (others) return "";
      const text = labelText(textOf(box, (n) => n === el));
      if (text) return text.length <= SHORT_TEXT ? text : "";
    }
    return "";
  }

  // A row's lone checkbox or field whose name nobody sees (an aria-label), under a column header: the row
  // and the header say what it is for, as they do on screen. A name from a visible label is kept, since
  // the label itself is not shown separately.
  function namedByItsRow(el, role) {
    if (!cell || !columnHeader || !NAMED_BY_ROW.has(role) || !el.hasAttribute("aria-label")) return false;
    return cell.querySelectorAll(CONTROLS).length === 1;
  }

  // A box that scrolls its own content (not the window): scroll(id) moves it.
  function scrolls(el) {
    const overflow = getComputedStyle(el).overflowY;
    return (overflow === "auto" || overflow === "scroll") && el.scrollHeight > el.clientHeight + 1;
  }

  function parentOf(el) {
    return el.parentNode instanceof ShadowRoot ? el.parentNode.host : el.parentElement;
  }

  function holdsControls(root) {
    if (root.querySelector(USABLE)) return true;
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot && holdsControls(el.shadowRoot)) return true;
    return false;
  }

  // A click handler a framework keeps on the element itself: React's props, Vue's event invokers.
  function frameworkClick(el) {
    const react = Object.keys(el).find((key) => key.startsWith("__reactProps$"));
    if (react && el[react] && typeof el[react].onClick === "function") return true;
    return Boolean(el._vei && el._vei.onClick);
  }

  // An element without a role that handles clicks. Frameworks attach listeners at the root, so the signals
  // are a pointer cursor where its parent has none (the outermost such element), an onclick handler, a
  // place in the tab order (or a roving one), or a handler kept in React's or Vue's props. Not when it holds controls of its
  // own (they get the ids), and not a region of text to read.
  // An item of a group with a roving tab stop: the group's current item has tabindex 0, the others -1
  // (JupyterLab's file list); all of them are what a person clicks.
  function rovingItem(el) {
    if (el.getAttribute("tabindex") !== "-1" || el.classList.length === 0) return false;
    const group = el.closest("ul, ol, [role=list], [role=listbox], [role=tree], [role=grid], [role=toolbar]");
    return Boolean(group && group.querySelector(`.${CSS.escape(el.classList[0])}[tabindex="0"]`));
  }

  // A pointer cursor where the parent has none (or any pointer, with `inherited`), onclick, a place in the
  // tab order, or a framework's handler.
  function pointerOf(el, inherited) {
    if (getComputedStyle(el).cursor !== "pointer") return false;
    const parent = parentOf(el);
    return inherited || !(parent && parent.nodeType === Node.ELEMENT_NODE && getComputedStyle(parent).cursor === "pointer");
  }

  function clickSignal(el, inherited) {
    return pointerOf(el, inherited) || el.hasAttribute("onclick")
      || (el.hasAttribute("tabindex") && el.tabIndex >= 0) || frameworkClick(el);
  }

  function handlesClicks(el) {
    if (el.tagName === "LABEL" || el.tagName === "BODY" || el.tagName === "HTML") return false;
    const pointer = pointerOf(el, false);
    const signalled = clickSignal(el, false) || rovingItem(el);
    if (!signalled || holdsControls(el) || (el.shadowRoot && holdsControls(el.shadowRoot))) return false;
    // Parts with a pointer of their own (a row's "Remove") are what a person clicks; they get the ids.
    if (!pointer && [...el.querySelectorAll("*")].some((part) => getComputedStyle(part).cursor === "pointer")) {
      return false;
    }
    return nameOf(el, "clickable") !== "";
  }

  // A row a person clicks on its text that also holds controls of its own (an inbox's message: a checkbox,
  // a star, then the sender and subject, opened by a click anywhere else): the row gets an id too, named by
  // its text outside the controls. Only a pointer cursor its parent lacks says so.
  function clickableHolder(el) {
    if (el.tagName === "BODY" || el.tagName === "HTML" || !pointerOf(el, false) || !holdsControls(el)) return "";
    return norm(textOf(el, (n) => n.matches(USABLE)));
  }

  // `[12] clickable:` leading what it holds, which is walked after it: a row with controls, a card of text.
  function leadOf(el, name) {
    token(el, "clickable", name);
    return `[${idFor(el)}] clickable:`;
  }

  // <label>s without for= that name the field after them: shown once, as that field's name.
  const namingLabels = new Set();
  for (const field of document.querySelectorAll(LABELLABLE)) {
    if ((field.labels && field.labels.length) || field.hasAttribute("aria-label")
        || field.hasAttribute("aria-labelledby") || !rendered(field)) continue;
    const nearby = nearbyLabel(field);
    if (nearby && nearby.from.tagName === "LABEL") namingLabels.add(nearby.from);
  }

  function namesAField(el) {
    if (el.tagName !== "LABEL" || !el.id) return false;
    const fields = el.getRootNode().querySelectorAll(`[aria-labelledby~="${CSS.escape(el.id)}"]`);
    return [...fields].some((field) => field.matches(LABELLABLE) && rendered(field));
  }

  function idFor(el) {
    let id = el.getAttribute(attr);
    if (!id) {
      id = String(next++);
      el.setAttribute(attr, id);
    }
    return Number(id);
  }

  function relativeUrl(url) {
    try {
      const u = new URL(url, location.href);
      return readable(u.origin === location.origin ? u.pathname + u.search + u.hash : u.href);
    } catch (e) {
      return url;
    }
  }

  // A URL as an address bar shows it: escapes of characters that mean the same written out are decoded
  // (`,` `:` `@`, letters like `é`); delimiters, `%`, `\` (read as `/`), and invisible characters (spaces,
  // controls, format marks) stay escaped, so the text still names the same URL and can be typed back.
  const KEEP_ESCAPED = new Set(["%", "&", "=", "+", "#", "?", "/", ";", "\\"]);
  const INVISIBLE = /[\p{C}\p{Z}]/u;
  function readable(url) {
    return url.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      let text;
      try {
        text = decodeURIComponent(run);
      } catch (e) {
        return run; // not UTF-8: shown as it is
      }
      return [...text].map((ch) => (KEEP_ESCAPED.has(ch) || INVISIBLE.test(ch) ? encodeURIComponent(ch) : ch)).join("");
    });
  }

  // Where a control's form is sent: by the form itself, or by this control when it is submit-type.
  function formOf(el) {
    if (!el.form) return null;
    const method = (el.form.getAttribute("method") || "get").toUpperCase();
    return method === "DIALOG" ? null : { method, action: actionOf.call(el.form) };
  }

  function submission(el) {
    const isSubmit = (el.tagName === "BUTTON" && el.type === "submit")
      || (el.tagName === "INPUT" && (el.type === "submit" || el.type === "image"));
    if (!isSubmit || !el.form) return null;
    const method = (el.getAttribute("formmethod") || el.form.getAttribute("method") || "get").toUpperCase();
    if (method === "DIALOG") return null;
    return { method, action: el.hasAttribute("formaction") ? el.formAction : actionOf.call(el.form) };
  }

  function token(el, role, name = nameOf(el, role)) {
    const id = idFor(el);
    const submits = submission(el);
    let text = `[${id}] ${role}`;
    name = clip(name, textLimit);
    // A row is read through its cells, shown after it; its name (their texts) is for find().
    if (name && role !== "row" && !namedByItsRow(el, role)) text += ` ${quote(name)}`;
    const tag = el.tagName;
    if (role === "link" && el.hasAttribute("href")) {
      const href = el.getAttribute("href").trim();
      text += ` -> ${href.startsWith("#") ? href : relativeUrl(href)}`; // "#..." stays on this page
    }
    if (tag === "INPUT" && !TEXT_INPUTS.has(el.type) && role !== "button" && role !== el.type) {
      text += ` type=${el.type}`;
    }
    if (tag === "SELECT") {
      const chosen = [...el.selectedOptions].map((o) => norm(o.text));
      if (chosen.length) text += ` value=${quote(chosen.join(", "))}`;
      const options = [...el.options].map((o) => norm(o.text));
      const shown = options.slice(0, optionLimit).join(" | ");
      text += ` options: ${shown}${options.length > optionLimit ? ` | … ${options.length} in all` : ""}`;
    } else if (tag === "INPUT" && role === "combobox" && !el.value) {
      const value = valueBeside(el);
      if (value) text += ` value=${quote(value)}`;
      if (el.readOnly) text += " [readonly]";
    } else if (tag === "INPUT" || tag === "TEXTAREA") {
      if (el.value && !["checkbox", "radio", "submit", "button", "reset", "image"].includes(el.type)) {
        // Passwords never leave the page, not even to the host's record.
        text += ` value=${el.type === "password" ? '"••••"' : quote(el.value)}`;
      }
      if (el.type === "checkbox" || el.type === "radio") text += el.checked ? " [checked]" : "";
      const placeholder = norm(el.getAttribute("placeholder"));
      if (!el.value && placeholder && placeholder !== name) text += ` placeholder=${quote(placeholder)}`;
      if (el.readOnly) text += " [readonly]";
    } else if (el.isContentEditable) {
      text += ` value=${quote(norm(el.innerText))}`;
    } else if (isCustomCombobox(el, role)) {
      const value = valueOfCustomCombobox(el);
      if (value && value !== name) text += ` value=${quote(value)}`;
    }
    const checked = el.getAttribute("aria-checked");
    if (checked === "true" || checked === "mixed") text += checked === "true" ? " [checked]" : " [mixed]";
    const expanded = el.getAttribute("aria-expanded");
    if (expanded) text += expanded === "true" ? " [expanded]" : " [collapsed]";
    if (tag === "SUMMARY" && el.parentElement && el.parentElement.tagName === "DETAILS") {
      text += el.parentElement.open ? " [expanded]" : " [collapsed]";
    }
    if (el.getAttribute("aria-selected") === "true") text += " [selected]";
    // A toggle drawn as a div shows its state only by its look, which its class names ("toggle on").
    if (role === "clickable" && !norm(textOf(el, null))
        && [...el.classList].some((c) => /(^|[-_])(on|active|checked|enabled|selected)$/i.test(c))) {
      text += " [on]";
    }
    const sort = el.getAttribute("aria-sort");
    if (sort && sort !== "none") text += ` [${sort}]`;
    if (el.getAttribute("aria-current") && el.getAttribute("aria-current") !== "false") text += " [current]";
    if (el.disabled || el.getAttribute("aria-disabled") === "true") text += " [disabled]";
    if (submits && submits.method !== "GET") text += ` (submits ${submits.method} ${relativeUrl(submits.action)})`;
    const href = role === "link" && el.href ? String(el.href) : null;
    const target = (el.getAttribute("target") || "").toLowerCase();
    const newTab = href !== null && target !== "" && !["_self", "_parent", "_top"].includes(target);
    elements.push({ id, role, name, tag: tag.toLowerCase(), href, newTab, submits, form: formOf(el),
      row: cell ? rowText : "" });
    return text;
  }

  function flush(depth, prefix) {
    if (cell) {
      buffer.push(" ");
      return;
    }
    const text = norm(buffer.join(" ")).replace(/ :(?= |$)/g, ":");
    buffer = [];
    if (text && emitting) lines.push("  ".repeat(depth) + (prefix || "") + text);
  }

  function line(depth, text) {
    if (emitting) lines.push("  ".repeat(depth) + text);
  }

  // Items beyond the limit are still walked, so their elements get ids that find() can reach.
  function walkItems(items, depth, prefix, noun) {
    items.forEach((item, index) => {
      const was = emitting;
      emitting = was && index < listLimit;
      if (handlesClicks(item)) {
        flush(depth);
        buffer.push(token(item, "clickable"));
        flush(depth, prefix);
      } else {
        walkBlock(item, depth, prefix);
      }
      emitting = was;
    });
    if (items.length > listLimit) line(depth, `… ${items.length - listLimit} more ${noun} (${items.length} in all)`);
  }

  function walkBlock(el, depth, prefix) {
    flush(depth);
    for (const child of childrenOf(el)) walk(child, depth);
    flush(depth, prefix);
  }

  // One table row on one line, `| a | b |`, led by the row's id when the row can be acted on.
  function rowLine(row, cells, depth, headerOf, withId) {
    // A row's name is its cells' texts, `a | b`, so find("row", ...) can match the text of one cell.
    const outerRow = rowText;
    rowText = cells.map((td) => norm(textOf(td, null))).filter(Boolean).join(" | ");
    const lead = withId ? token(row, "row", rowText) + " " : "";
    const texts = cells.map((td) => {
      [cell, columnHeader] = [td, headerOf(td)];
      if (td.getAttribute("role") === "columnheader" && td.hasAttribute("aria-sort")) {
        buffer.push(token(td, "columnheader")); // a header that sorts its column
      } else if (isControlCell(td)) {
        buffer.push(token(td, "gridcell")); // a cell that is itself a control: a date picker's day
      } else {
        for (const child of childrenOf(td)) walk(child, depth);
      }
      const text = norm(buffer.join(" "));
      buffer = [];
      return text;
    });
    rowText = outerRow;
    return `${lead}| ${texts.join(" | ")} |`;
  }

  function isControlCell(td) {
    return td.getAttribute("role") === "gridcell" && (td.matches("button, a[href]") || td.tabIndex >= 0
      || handlesClicks(td));
  }

  function walkRows(rows, depth, lineOf) {
    const was = emitting;
    const outer = [cell, columnHeader]; // a table inside a cell walks its own
    rows.forEach((row, index) => {
      emitting = was && index < listLimit + 1; // + 1 for the header row
      line(depth, lineOf(row));
    });
    [cell, columnHeader] = outer;
    emitting = was;
    if (rows.length > listLimit + 1) line(depth, `… ${rows.length - listLimit - 1} more rows (${rows.length} in all)`);
  }

  function walkTable(table, depth) {
    // Controls in a caption (a bulk action) are walked; the table is named by the caption's other text.
    const caption = table.caption && rendered(table.caption) ? table.caption : null;
    const captionText = caption ? norm(textOf(caption, (n) => n.matches(USABLE))) : "";
    const name = nameOf(table, "table") || captionText;
    if (name) line(depth, `table ${quote(name)}`);
    if (caption && caption.querySelector(USABLE)) {
      for (const child of caption.children) walk(child, depth + 1);
      flush(depth + 1);
    }
    const rows = [...table.rows].filter(rendered);
    const headerRow = rows.find((row) => [...row.cells].every((c) => c.tagName === "TH"));
    const headers = headerRow ? [...headerRow.cells].map((c) => norm(c.textContent)) : [];
    const header = (td) => (td.tagName === "TD" ? headers[td.cellIndex] || "" : "");
    walkRows(rows, depth, (row) => rowLine(row, [...row.cells].filter(rendered), depth, header,
      row !== headerRow && (handlesClicks(row) || clickableHolder(row) !== "")));
  }

  // An ARIA grid made of divs (data grids such as ag-grid): a line per row, an id on each data row. A grid
  // that splits a row across pinned and scrolling parts repeats its aria-rowindex; those parts are merged.
  function walkGrid(grid, depth) {
    const role = roleOf(grid);
    const name = nameOf(grid, role);
    const scrollable = [grid, ...grid.querySelectorAll("*")].find(scrolls); // the grid's own viewport
    line(depth, scrollable === grid ? `${token(grid, role)} [scrollable]:`
      : `${role}${name ? " " + quote(name) : ""}${scrollable ? ` (scrolls in [${idFor(scrollable)}])` : ""}:`);
    const rows = new Map();
    for (const row of grid.querySelectorAll("[role=row]")) {
      if (row.parentElement.closest("[role=grid], [role=treegrid], table") !== grid || !rendered(row)) continue;
      const key = row.getAttribute("aria-rowindex") || row;
      if (!rows.has(key)) rows.set(key, { row, cells: [] });
      rows.get(key).cells.push(...[...row.querySelectorAll(CELLS)]
        .filter((c) => c.parentElement.closest("[role=row]") === row && rendered(c)));
    }
    walkRows([...rows.values()], depth + 1, ({ row, cells }) => {
      const heading = cells.length > 0 && cells.every((c) => c.getAttribute("role") === "columnheader");
      return rowLine(row, cells, depth + 1, () => "", !heading && !cells.some(isControlCell));
    });
  }

  // A drop-down's popup, often added at the end of <body>, is named after the combobox that owns it.
  function ownerName(el) {
    if (!el.id) return "";
    const id = CSS.escape(el.id);
    const owner = el.getRootNode().querySelector(`[aria-owns~="${id}"], [aria-controls~="${id}"]`);
    return owner ? nameOf(owner, roleOf(owner)) : "";
  }

  // A listbox, menu or tree: a header line, then a line per item (the first `limit`; all get ids).
  function walkComposite(el, role, depth) {
    flush(depth);
    const name = nameOf(el, role) || ownerName(el);
    const head = role === "listbox" ? token(el, role, name) : `${role}${name ? " " + quote(name) : ""}`;
    line(depth, `${head}:`);
    const outer = items;
    items = { total: 0, limit: role === "listbox" ? optionLimit : listLimit, itemRole: ITEM_OF[role] };
    walkBlock(el, depth + 1);
    const { total, limit } = items;
    items = outer;
    const noun = role === "listbox" ? "options" : "items";
    if (total > limit) line(depth + 1, `… ${total - limit} more ${noun} (${total} in all)`);
  }

  function walkItem(el, role, depth) {
    flush(depth);
    const was = emitting;
    if (items) {
      items.total += 1;
      emitting = was && items.total <= items.limit;
    }
    buffer.push(token(el, role));
    flush(depth);
    if (role === "treeitem") { // its sub-items, a level deeper
      for (const group of el.querySelectorAll(":scope > [role=group], :scope > ul")) walkBlock(group, depth + 1);
    }
    emitting = was;
  }

  function walk(node, depth) {
    if (node.nodeType === Node.TEXT_NODE) {
      buffer.push(node.textContent);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || SKIP.has(node.tagName) || node === skipped) return;
    if (node.tagName === "INPUT" && node.type === "hidden") return;
    if (!rendered(node)) return;
    if (node.tagName === "BR") {
      flush(depth);
      return;
    }
    const role = roleOf(node);
    if (node.tagName === "LABEL" && node.control) {
      // The control's name already carries the label's text; keep only a wrapped control itself.
      if (node.contains(node.control)) walk(node.control, depth);
      return;
    }
    if (namingLabels.has(node) || namesAField(node)) return;
    if (COMPOSITES.has(role) && node.tagName !== "SELECT") {
      walkComposite(node, role, depth);
      return;
    }
    if (GRIDS.has(role) && node.tagName !== "TABLE") {
      flush(depth);
      walkGrid(node, depth);
      return;
    }
    if (ITEMS.has(role)) {
      walkItem(node, role, depth);
      return;
    }
    if (INTERACTIVE.has(role)) {
      // Form fields get a line each (their labels are in their names); links and buttons stay in the text.
      const field = FIELDS.has(role);
      if (field) flush(depth);
      buffer.push(token(node, role));
      if (field) flush(depth);
      return;
    }
    if (["", "generic", "none", "presentation", "listitem"].includes(role) && handlesClicks(node)) {
      // What a clickable part of a menu or listbox is (JupyterLab leaves the role off its submenus); a
      // drop-down's items drawn without roles (antd keeps its roles on a listbox of no size) say it in
      // their class: "…-option".
      if (items) {
        walkItem(node, items.itemRole, depth);
        return;
      }
      if ([...node.classList].some((name) => /(^|[-_])option$/.test(name))) {
        walkItem(node, "option", depth);
        return;
      }
      const block = !getComputedStyle(node).display.startsWith("inline");
      if (block) flush(depth);
      const name = nameOf(node, "clickable");
      if (name.length > textLimit) { // a card of text that opens something: an id, and its text to read
        buffer.push(leadOf(node, name));
        walkBlock(node, depth);
        return;
      }
      buffer.push(token(node, "clickable", name));
      if (block) flush(depth);
      return;
    }
    const holder = ["", "generic", "none", "presentation", "listitem"].includes(role) && clickableHolder(node);
    if (holder) { // one line, led by its id, as a table row is; its checkbox is found by its text
      flush(depth);
      buffer.push(leadOf(node, holder));
      const outer = [cell, columnHeader, rowText];
      [cell, columnHeader, rowText] = [node, "", holder];
      for (const child of childrenOf(node)) walk(child, depth);
      [cell, columnHeader, rowText] = outer;
      flush(depth);
      return;
    }
    if (node.tagName === "DT") {
      for (const child of childrenOf(node)) walk(child, depth);
      buffer.push(":");
      return;
    }
    if (node.tagName === "DD") { // on the line its term started
      for (const child of childrenOf(node)) walk(child, depth);
      flush(depth);
      return;
    }
    if (role === "iframe") {
      flush(depth);
      const name = nameOf(node, role);
      line(depth, `${iframeMarker}${idFor(node)}:iframe${name ? " " + quote(name) : ""}`);
      return;
    }
    if (role === "heading") {
      const level = Number(node.getAttribute("aria-level") || node.tagName.slice(1)) || 2;
      walkBlock(node, depth, "#".repeat(Math.min(level, 6)) + " ");
      return;
    }
    if (role === "table" && node.tagName === "TABLE") {
      flush(depth);
      walkTable(node, depth);
      return;
    }
    if (role === "list") {
      flush(depth);
      const isItem = (c) => c.tagName === "LI" || c.getAttribute("role") === "listitem";
      const items = [...node.children].filter(isItem);
      // A virtualised list holds its shown items and empty spacers that give it its full height.
      if ([...node.children].every((c) => isItem(c) || !norm(c.textContent))) {
        if (scrolls(node)) line(depth, `${token(node, "list")} [scrollable]:`);
        walkItems(items.filter(rendered), depth, "- ", "items");
        return;
      }
    }
    if (role === "dialog" || role === "alertdialog") {
      flush(depth);
      const name = nameOf(node, role);
      line(depth, `${role}${name ? " " + quote(name) : ""}${isModal(node) ? " [modal]" : ""}:`);
      walkBlock(node, depth + 1);
      return;
    }
    if (role === "alert" || role === "status") {
      walkBlock(node, depth, `${role}: `);
      return;
    }
    if (role === "img") {
      const name = nameOf(node, role);
      if (name) buffer.push(`img ${quote(name)}`);
      return;
    }
    if (getComputedStyle(node).display.startsWith("inline")) {
      for (const child of childrenOf(node)) walk(child, depth);
      return;
    }
    const gridRows = role === "" ? divGrid(node) : null;
    if (gridRows) {
      flush(depth);
      const headers = gridRows[0].cells.map((c) => norm(textOf(c, null)));
      walkRows(gridRows, depth, ({ row, cells }) => rowLine(row, cells, depth,
        (c) => (row === gridRows[0].row ? "" : headers[cells.indexOf(c)] || ""),
        row !== gridRows[0].row && handlesClicks(row)));
      return;
    }
    walkBlock(node, depth);
  }

  // A data grid drawn with divs and no roles: three or more boxes, each a row of as many cells side by side,
  // the cells of each column aligned. It reads as a table: a line per row, under a line of column names.
  function divGrid(el) {
    const rows = [...el.children].filter(rendered).map((row) => ({ row, cells: [...row.children].filter(rendered) }));
    if (rows.length < 3 || rows[0].cells.length < 2) return null;
    const lefts = rows[0].cells.map((c) => c.getBoundingClientRect().left);
    for (const { row, cells } of rows) {
      if (!["", "listitem"].includes(roleOf(row)) || cells.length !== lefts.length) return null;
      const boxes = cells.map((c) => c.getBoundingClientRect());
      if (boxes.some((b, i) => Math.abs(b.left - lefts[i]) > 2 || Math.abs(b.top - boxes[0].top) > 2
        || b.width === 0 || (i > 0 && b.left <= boxes[i - 1].left))) return null;
      if (cells.some((c) => c.matches(LABELLABLE) || c.querySelector(LABELLABLE))) return null;
    }
    return rows;
  }

  function isModal(el) {
    return el.matches(":modal") || el.getAttribute("aria-modal") === "true";
  }

  // A modal drawn without a role: at the centre of the window, a fixed box holding controls over (or in) a
  // backdrop that covers the window, with the page's own controls behind it.
  function drawnModal() {
    const covers = (e) => {
      const box = e.getBoundingClientRect();
      return box.width >= innerWidth * 0.9 && box.height >= innerHeight * 0.9;
    };
    let fixed = null;
    for (let n = document.elementFromPoint(innerWidth / 2, innerHeight / 2); n && n !== document.body
      && n.nodeType === Node.ELEMENT_NODE; n = parentOf(n)) {
      if (getComputedStyle(n).position === "fixed") fixed = n;
    }
    if (!fixed || !fixed.parentElement || !holdsControls(fixed)) return null;
    const backdrop = covers(fixed) || [...fixed.parentElement.children].some((e) => e !== fixed && rendered(e)
      && getComputedStyle(e).position === "fixed" && covers(e));
    const behind = [...document.body.querySelectorAll(USABLE)].some((e) => !fixed.contains(e) && rendered(e));
    return backdrop && behind ? fixed : null;
  }

  // The topmost open modal dialog comes first: the page behind it cannot be used until it closes.
  const modal = document.body && [...document.querySelectorAll("dialog, [role=dialog], [role=alertdialog]")]
    .filter((el) => isModal(el) && rendered(el)).pop();
  const drawn = document.body && !modal ? drawnModal() : null;
  drawnDialog = drawn;
  if (modal) {
    walk(modal, 0);
    flush(0);
    skipped = modal;
  } else if (drawn) {
    const heading = drawn.querySelector("h1, h2, h3, h4, h5, h6, [role=heading]");
    const name = norm(drawn.getAttribute("aria-label")) || (heading ? norm(textOf(heading, null)) : "");
    line(0, `dialog${name ? " " + quote(name) : ""} [modal]:`);
    walkBlock(drawn, 1);
    skipped = drawn;
  }
  if (document.body) walkBlock(document.body, 0);
  return { doc: window.__hybridDoc, next, lines, elements, url: location.href, title: document.title };
}
