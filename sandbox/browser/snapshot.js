// Walks one frame's DOM and returns a compact text accessibility tree.
//
// Interactive elements get a numeric id stored in a DOM attribute, so the same element keeps its id
// across observations of one document and ids are never reused (the host hands out `nextId`).
// Hidden and presentational nodes are dropped; block elements become lines and inline content
// (text, links, inputs) is joined on one line, which is what keeps the result a small fraction of
// the HTML. Iframes become placeholder lines that the host fills with the child frame's walk.
({ nextId, listLimit, optionLimit, textLimit, attr, iframeMarker }) => {
  if (!window.__hybridDoc) window.__hybridDoc = Math.random().toString(36).slice(2);
  let next = nextId;
  const elements = [];
  const lines = [];
  let buffer = [];
  let emitting = true;
  let cell = null; // the table cell being walked (everything in it stays on the row's line), and the text
  let columnHeader = ""; // of its column's header

  const INTERACTIVE = new Set(["button", "link", "checkbox", "radio", "textbox", "searchbox", "combobox",
    "listbox", "slider", "spinbutton", "switch", "tab", "menuitem", "menuitemcheckbox",
    "menuitemradio", "option", "treeitem"]);
  const FIELDS = new Set(["textbox", "searchbox", "combobox", "listbox", "slider", "spinbutton"]);
  const NAMED_BY_ROW = new Set([...FIELDS, "checkbox", "radio", "switch"]);
  const CONTROLS = "input:not([type=hidden]), select, textarea, button, a[href], [role], [contenteditable]";
  const NAME_FROM_CONTENT = new Set(["button", "link", "checkbox", "radio", "switch", "tab", "menuitem",
    "menuitemcheckbox", "menuitemradio", "option", "treeitem", "heading", "cell", "columnheader"]);
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "TITLE"]);
  const TEXT_INPUTS = new Set(["", "text", "email", "tel", "url", "password", "search"]);

  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
  const quote = (s) => JSON.stringify(clip(s, textLimit));

  function roleOf(el) {
    const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
    if (explicit) return explicit;
    const tag = el.tagName;
    if (tag === "A" || tag === "AREA") return el.hasAttribute("href") ? "link" : "";
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

  function rendered(el) {
    if (el.getAttribute("aria-hidden") === "true" || el.hidden) return false;
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

  // Accessible name from content, a practical subset of the accname algorithm.
  function textOf(node, exclude) {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE || node === exclude || SKIP.has(node.tagName)) return "";
    if (!rendered(node)) return "";
    const label = node.getAttribute("aria-label");
    if (label && label.trim()) return ` ${label} `;
    if (node.tagName === "IMG" || node.tagName === "AREA") return ` ${node.getAttribute("alt") || ""} `;
    if (node.tagName === "INPUT" || node.tagName === "TEXTAREA") return ` ${node.value || ""} `;
    if (node.tagName === "SELECT") return ` ${[...node.selectedOptions].map((o) => o.text).join(" ")} `;
    if (node.tagName === "BR") return " ";
    let text = "";
    for (const child of childrenOf(node)) text += textOf(child, exclude);
    return getComputedStyle(node).display.startsWith("inline") ? text : ` ${text} `;
  }

  function nameOf(el, role) {
    const labelledBy = el.getAttribute("aria-labelledby");
    if (labelledBy) {
      const text = labelledBy.split(/\s+/).map((id) => document.getElementById(id))
        .filter(Boolean).map((ref) => textOf(ref, null)).join(" ");
      if (norm(text)) return norm(text);
    }
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
    if (el.labels && el.labels.length) {
      const text = norm([...el.labels].map((l) => textOf(l, el)).join(" "));
      if (text) return text;
    }
    if (tag === "IMG") return norm(el.getAttribute("alt"));
    if (tag === "IFRAME" || tag === "FRAME") return norm(el.title || el.name);
    if (NAME_FROM_CONTENT.has(role)) {
      let text = "";
      for (const child of childrenOf(el)) text += textOf(child, null);
      if (norm(text)) return norm(text);
    }
    return norm(el.getAttribute("title") || el.getAttribute("placeholder"));
  }

  // A row's lone checkbox or field whose name nobody sees (an aria-label), under a column header: the row
  // and the header say what it is for, as they do on screen. A name from a visible label is kept, since
  // the label itself is not shown separately.
  function namedByItsRow(el, role) {
    if (!cell || !columnHeader || !NAMED_BY_ROW.has(role) || !el.hasAttribute("aria-label")) return false;
    return cell.querySelectorAll(CONTROLS).length === 1;
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
    return method === "DIALOG" ? null : { method, action: el.form.action };
  }

  function submission(el) {
    const isSubmit = (el.tagName === "BUTTON" && el.type === "submit")
      || (el.tagName === "INPUT" && (el.type === "submit" || el.type === "image"));
    if (!isSubmit || !el.form) return null;
    const method = (el.getAttribute("formmethod") || el.form.getAttribute("method") || "get").toUpperCase();
    if (method === "DIALOG") return null;
    return { method, action: el.hasAttribute("formaction") ? el.formAction : el.form.action };
  }

  function token(el, role) {
    const id = idFor(el);
    const name = nameOf(el, role);
    const submits = submission(el);
    let text = `[${id}] ${role}`;
    if (name && !namedByItsRow(el, role)) text += ` ${quote(name)}`;
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
    } else if (tag === "INPUT" || tag === "TEXTAREA") {
      if (el.value && !["checkbox", "radio", "submit", "button", "reset", "image"].includes(el.type)) {
        // Passwords never leave the page, not even to the host's record.
        text += ` value=${el.type === "password" ? '"••••"' : quote(el.value)}`;
      }
      if (el.type === "checkbox" || el.type === "radio") text += el.checked ? " [checked]" : "";
      if (el.readOnly) text += " [readonly]";
    } else if (el.isContentEditable) {
      text += ` value=${quote(norm(el.innerText))}`;
    }
    const checked = el.getAttribute("aria-checked");
    if (checked === "true" || checked === "mixed") text += checked === "true" ? " [checked]" : " [mixed]";
    const expanded = el.getAttribute("aria-expanded");
    if (expanded) text += expanded === "true" ? " [expanded]" : " [collapsed]";
    if (tag === "SUMMARY" && el.parentElement && el.parentElement.tagName === "DETAILS") {
      text += el.parentElement.open ? " [expanded]" : " [collapsed]";
    }
    if (el.getAttribute("aria-selected") === "true") text += " [selected]";
    if (el.getAttribute("aria-current") && el.getAttribute("aria-current") !== "false") text += " [current]";
    if (el.disabled || el.getAttribute("aria-disabled") === "true") text += " [disabled]";
    if (submits && submits.method !== "GET") text += ` (submits ${submits.method} ${relativeUrl(submits.action)})`;
    const href = role === "link" && el.href ? String(el.href) : null;
    const target = (el.getAttribute("target") || "").toLowerCase();
    const newTab = href !== null && target !== "" && !["_self", "_parent", "_top"].includes(target);
    elements.push({ id, role, name, tag: tag.toLowerCase(), href, newTab, submits, form: formOf(el) });
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
      walkBlock(item, depth, prefix);
      emitting = was;
    });
    if (items.length > listLimit) line(depth, `… ${items.length - listLimit} more ${noun} (${items.length} in all)`);
  }

  function walkBlock(el, depth, prefix) {
    flush(depth);
    for (const child of childrenOf(el)) walk(child, depth);
    flush(depth, prefix);
  }

  function walkTable(table, depth) {
    const name = nameOf(table, "table") || (table.caption ? norm(table.caption.textContent) : "");
    if (name) line(depth, `table ${quote(name)}`);
    const rows = [...table.rows].filter(rendered);
    const headerRow = rows.find((row) => [...row.cells].every((c) => c.tagName === "TH"));
    const headers = headerRow ? [...headerRow.cells].map((c) => norm(c.textContent)) : [];
    const was = emitting;
    const outer = [cell, columnHeader]; // a table inside a cell walks its own
    rows.forEach((row, index) => {
      emitting = was && index < listLimit + 1; // + 1 for the header row
      const cells = [...row.cells].filter(rendered).map((td) => {
        [cell, columnHeader] = [td, td.tagName === "TD" ? headers[td.cellIndex] || "" : ""];
        for (const child of childrenOf(td)) walk(child, depth);
        const text = norm(buffer.join(" "));
        buffer = [];
        return text;
      });
      line(depth, `| ${cells.join(" | ")} |`);
    });
    [cell, columnHeader] = outer;
    emitting = was;
    if (rows.length > listLimit + 1) line(depth, `… ${rows.length - listLimit - 1} more rows (${rows.length} in all)`);
  }

  function walk(node, depth) {
    if (node.nodeType === Node.TEXT_NODE) {
      buffer.push(node.textContent);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || SKIP.has(node.tagName)) return;
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
    if (INTERACTIVE.has(role)) {
      // Form fields get a line each (their labels are in their names); links and buttons stay in the text.
      const field = FIELDS.has(role);
      if (field) flush(depth);
      buffer.push(token(node, role));
      if (field) flush(depth);
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
      const items = [...node.children].filter((c) => c.tagName === "LI" || c.getAttribute("role") === "listitem");
      if (items.length === [...node.children].length) {
        walkItems(items.filter(rendered), depth, "- ", "items");
        return;
      }
    }
    if (role === "dialog" || role === "alertdialog") {
      flush(depth);
      const name = nameOf(node, role);
      line(depth, `${role}${name ? " " + quote(name) : ""}:`);
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
    walkBlock(node, depth);
  }

  if (document.body) walkBlock(document.body, 0);
  return { doc: window.__hybridDoc, next, lines, elements, url: location.href, title: document.title };
}
