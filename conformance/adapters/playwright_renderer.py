"""Generic conformance adapter for renderers that run in a browser (adapter_protocol 1, role renderer).

    python playwright_renderer.py --dist path/to/dist [--page index.html]
    python playwright_renderer.py --url http://127.0.0.1:5173/

It serves ``--dist`` over a local HTTP server, the page at "/" (or uses ``--url``), sets
``window.__PHLOEM_CONFIG__ = {url}`` before any page script runs, and drives the page with
Chromium through Playwright. The renderer's side of the contract:

- the page reads ``window.__PHLOEM_CONFIG__.url`` and connects to it;
- every node's outermost element carries ``data-node-id`` and ``data-node-type``;
- a fallback element carries ``data-fallback`` (or its type is not in ``--supported``).

Beyond ``open``/``act``/``snapshot``: ``act`` ``{type: NODE, text, clear?, delay_ms?}`` types
into the node's text field key by key, ``{fill: NODE, text}`` replaces the field's text in one
edit (one ``input`` event, as a paste over the whole text does); ``open`` with ``clock: true``
installs Playwright's clock before any page script runs: it flows as the real one, stands
still while an ``act`` runs (the keystrokes of one action happen at one instant of the page's
clock, however slowly the browser types them), and ``control`` ``advance`` moves it on
(``run_for``); ``audit`` returns the page's URL, console output, localStorage, sessionStorage
and cookies.

Every browser budget (an action's wait for its target, loading the page) is
``--action-timeout-ms`` times the ``timeout_factor`` the runner sends in ``hello``, so a slow
machine given ``--timeout-factor`` gets proportionately more time.

The semantic snapshot is computed in the page from those attributes: nesting of
``data-node-id`` elements gives the children; role, text, accessible name and enabled state
come from the DOM, never from the wire tree (a renderer is judged by what it shows).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import threading
from pathlib import Path
from typing import Any

from phloem_conformance.catalog_gen import TYPES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PAUSE_AHEAD_S = 0.05  # how far ahead of the page's clock an action pauses it (see _pause)
PAGE_LOAD_MS = 30000  # Playwright's own default for a navigation, at --timeout-factor 1
CORE_COMPONENTS = ",".join(TYPES)  # the 1.0 core catalog (PHL-COMP-001), from the schemas
FIELD = "input:not([type=button]):not([type=submit]):not([type=checkbox]):not([type=radio]), textarea"
# What a page keeps or shows where other origins can read it (PHL-SEC-006), for `audit`.
AUDIT_JS = r"""
() => {
  const dump = (storage) => Object.fromEntries([...Array(storage.length).keys()]
      .map((i) => storage.key(i)).map((k) => [k, storage.getItem(k)]));
  return { url: location.href, local_storage: dump(localStorage), session_storage: dump(sessionStorage),
           cookies: document.cookie };
}
"""

# Phloem projection roles (spec component table), read from the DOM: an explicit ARIA role
# wins, then the tag. Elements that merely hold text project as "text".
SNAPSHOT_JS = r"""
([supported]) => {
  const known = new Set(supported);
  const TEXT_TAGS = new Set(["P", "SPAN", "H1", "H2", "H3", "H4", "H5", "H6", "PRE", "CODE",
                             "LABEL", "STRONG", "EM", "SMALL", "B", "I"]);
  const NODE = "[data-node-id]";
  const nodeChildren = (el) => [...el.querySelectorAll(NODE)]
      .filter((d) => d.parentElement.closest(NODE) === el);
  const ownText = (el) => {
    const clone = el.cloneNode(true);
    clone.querySelectorAll(NODE).forEach((d) => d.remove());
    return (clone.textContent || "").replace(/\s+/g, " ").trim();
  };
  // What a text node shows, in white-space normal form (PHL-CLIENT-014): innerText follows the
  // CSS, so line breaks count only when the renderer displays them; other white space collapses.
  const shownText = (el) => el.querySelector(NODE) ? ownText(el)
      : el.innerText.split(/\r\n|\r|\n/).map((l) => l.replace(/\s+/g, " ").trim()).join("\n")
          .replace(/^\n+|\n+$/g, "");
  // The element's own form control or anchor (the node itself, or inside it but not inside a
  // nested node): a TextInput may wrap its <input> in a <label>, a Link its <a>.
  const own = (el, selector) => el.matches(selector) ? el
      : [...el.querySelectorAll(selector)].find((d) => d.closest(NODE) === el) || null;
  const CONTROL_ROLES = new Set(["button", "link", "textbox", "checkbox"]);
  const FIELD = "input:not([type=button]):not([type=submit]):not([type=checkbox]):not([type=radio]), textarea";
  // ARIA roles (the first token of an explicit `role`) that name a Phloem projection role;
  // "none"/"presentation" remove the element's own semantics, so the tag decides.
  const ARIA = { link: "link", button: "button", textbox: "textbox", searchbox: "textbox",
                 checkbox: "checkbox", switch: "checkbox", group: "group", region: "group",
                 paragraph: "text", heading: "text" };
  const explicitRole = (el) => {
    const token = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
    return token && token !== "none" && token !== "presentation" ? (ARIA[token] ?? token) : null;
  };
  const LINK = "a, [role=link]";  // an <a> with or without href: a refused URL keeps role link
  const roleOf = (el, kids) => {
    const explicit = explicitRole(el);
    if (explicit) return explicit;
    const tag = el.tagName;
    if (tag === "BUTTON" || (tag === "INPUT" && ["button", "submit"].includes(el.type))) return "button";
    if (own(el, LINK)) return "link";
    if (own(el, FIELD)) return "textbox";
    if (TEXT_TAGS.has(tag)) return "text";
    if (kids.length === 0 && ownText(el)) return "text";
    return "group";
  };
  const labelOf = (el) => {
    const label = el.getAttribute("aria-label");
    if (label) return label.trim();
    const by = el.getAttribute("aria-labelledby");
    if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent || "")
                       .join(" ").replace(/\s+/g, " ").trim();
    if (el.labels && el.labels.length) {
      return [...el.labels].map((l) => l.textContent || "").join(" ").replace(/\s+/g, " ").trim();
    }
    return null;
  };
  const accessibleName = (el, role) => {
    const control = role === "textbox" ? own(el, FIELD) : role === "link" ? own(el, LINK) : null;
    return labelOf(el) ?? (control && control !== el ? labelOf(control) : null)
        ?? (control && control.placeholder && !ownText(el) ? control.placeholder : null) ?? ownText(el);
  };
  const build = (el) => {
    const kids = nodeChildren(el);
    const type = el.getAttribute("data-node-type");
    const role = roleOf(el, kids);
    const node = { id: el.getAttribute("data-node-id"), type, role };
    // Controls and links project a name, never a text (spec: component projection tables); a
    // TextInput's visible label is its name, a Link's visible text its name. A progressbar
    // projects a name and a value (its descendants are presentational in ARIA).
    const control = CONTROL_ROLES.has(role);
    const text = control || role === "progressbar" ? "" : role === "text" ? shownText(el) : ownText(el);
    if (text) node.text = text;
    if (control) node.name = accessibleName(el, role);
    const field = role === "textbox" ? own(el, FIELD) : null;
    if (field) node.value = field.value;  // what the field displays, not its attribute
    if (role === "progressbar") {  // JobProgress's bar (since 1.1): name from aria-label, value as announced
      node.name = labelOf(el) ?? "";
      const shown = el.getAttribute("aria-valuetext");
      if (shown) node.value = shown;
    }
    if (role === "group") {  // a named group (JobProgress, since 1.1); a Column has no name
      const name = labelOf(el);
      if (name) node.name = name;
    }
    const anchor = role === "link" ? own(el, "a") : null;  // an element with role link has no href
    if (anchor && anchor.hasAttribute("href")) node.href = anchor.href;  // resolved against the page
    // Enabled state belongs to controls that take input (a Link has none, even when
    // aria-disabled marks one that leads nowhere).
    const target = field || el;
    if (role !== "link" && ("disabled" in target || el.hasAttribute("aria-disabled"))) {
      node.enabled = !(target.disabled || el.getAttribute("aria-disabled") === "true");
    }
    if (el.hasAttribute("data-fallback") || !known.has(type)) node.fallback = true;
    node.children = kids.map(build);
    return node;
  };
  const roots = [...document.querySelectorAll(NODE)].filter((e) => !e.parentElement.closest(NODE));
  return roots.length ? build(roots[0]) : null;
}
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the dist directory, with the renderer's page at "/" (so the page's path, which a
    renderer may send as hello.path, is "/", the path of a fixture served at the root)."""

    page = "index.html"

    def translate_path(self, path: str) -> str:
        if path.split("?", 1)[0].split("#", 1)[0] == "/":
            path = "/" + self.page
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class BrowserRenderer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.supported = [t for t in args.supported.split(",") if t]
        self.httpd: http.server.ThreadingHTTPServer | None = None
        self.page_url = args.url
        self.playwright: Any = None
        self.browser: Any = None
        self.context: Any = None
        self.page: Any = None
        self.console: list[str] = []  # the page's console output and errors, for `audit`
        self.clock = False  # a controllable clock is installed (the case has a renderer control step)
        self.budget_ms = args.action_timeout_ms  # per browser action; scaled at hello
        self.load_ms = PAGE_LOAD_MS  # loading the page; scaled at hello

    def hello(self, timeout_factor: float = 1.0) -> dict[str, Any]:
        # The runner's --timeout-factor scales the browser's budgets as it scales its own.
        self.budget_ms = max(1, round(self.args.action_timeout_ms * timeout_factor))
        self.load_ms = max(1, round(PAGE_LOAD_MS * timeout_factor))
        if self.page_url is None:
            dist = Path(self.args.dist)
            if not (dist / self.args.page).is_file():
                raise RuntimeError(f"{dist / self.args.page} not found (build the renderer first)")
            page_handler = type("_PageHandler", (_QuietHandler,), {"page": self.args.page})
            handler = functools.partial(page_handler, directory=str(dist))
            self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
            self.page_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=self.args.chromium, args=CHROMIUM_ARGS)
        return {
            "role": "renderer",
            "implementation": {"name": self.args.name, "version": self.args.version,
                               "language": self.args.language, "browser": f"chromium {self.browser.version}"},
            "fixtures": [],
            "supports": ["audit", "control"],  # the optional commands it has
        }

    def open(self, url: str, clock: bool = False) -> dict[str, Any]:
        self.context = self.browser.new_context()
        config = {self.args.config_key: url}
        self.context.add_init_script(f"window.{self.args.config_var} = {json.dumps(config)};")
        self.console = []
        self.clock = clock
        if clock:
            # Before any page script runs, so the renderer's timers (heartbeats, backoff,
            # coalescing) are on this clock. It flows as the real one, stands still during
            # each user action (`act`) and jumps on at `control`.
            self.context.clock.install()
        self.page = self.context.new_page()
        self.page.set_default_timeout(self.budget_ms)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self._console(f"[pageerror] {e}"))
        self.page.goto(self.page_url, wait_until="load", timeout=self.load_ms)
        return {}

    def _console(self, message: Any) -> None:
        line = message if isinstance(message, str) else f"[console.{message.type}] {message.text}"
        self.console.append(line)
        print(line, file=sys.stderr)

    def control(self, command: dict[str, Any]) -> dict[str, Any]:
        """``advance``: the page's clock moves S seconds on, firing the timers due meanwhile."""
        if command.get("op") != "advance" or not self.clock:
            return {"ok": False, "unsupported": True,
                    "error": "no clock installed (open without clock)" if not self.clock else "unknown op"}
        self.page.clock.run_for(max(1, round(float(command["seconds"]) * 1000)))
        return {"ok": True}

    def audit(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate(AUDIT_JS)
        state["url"] = self.page.url
        state["console"] = list(self.console)
        return state

    def act(self, action: dict[str, Any]) -> dict[str, Any]:
        if not self.clock:
            return self._act(action)
        # One user action is one instant of the page's clock: no timer of the renderer (a 50 ms
        # coalescing timer) fires between its keystrokes, however slow the machine.
        self._pause()
        try:
            return self._act(action)
        finally:
            self.page.clock.resume()

    def _pause(self) -> None:
        """Stop the page's flowing clock. Playwright pauses only at a given time, never in the
        past, and the clock flows between reading it and pausing it: pause a little ahead (the
        timers due meanwhile fire before the action, as they would have in real time), further
        ahead if the machine was slower than that."""
        from playwright.sync_api import Error

        ahead = PAUSE_AHEAD_S
        for _ in range(6):
            try:
                self.page.clock.pause_at(self.page.evaluate("Date.now()") / 1000 + ahead)
                return
            except Error as exc:
                if "past" not in str(exc):
                    raise
                ahead *= 4
        raise RuntimeError("could not pause the page's clock")

    def _act(self, action: dict[str, Any]) -> dict[str, Any]:
        if "type" in action:
            return self.type(action)
        if "fill" in action:
            return self.fill(action)
        if "click" not in action:
            raise RuntimeError(f"unsupported action {sorted(action)}")
        target = self.page.locator(f'[data-node-id="{action["click"]}"]')
        target.wait_for(state="visible", timeout=self.budget_ms)
        # A user can press a disabled control too: the click lands and nothing must come of it
        # (PHL-COMP-013), so a disabled target is clicked without waiting for it to be enabled.
        target.click(timeout=self.budget_ms, force=target.is_disabled())
        return {}

    def type(self, action: dict[str, Any]) -> dict[str, Any]:
        """Type ``text`` at the end of the node's text field keystroke by keystroke, as a user
        would (``clear``: select all and delete first). A disabled field is typed at too: focus does
        not land and the keys go nowhere, as for a user (nothing must be sent)."""
        node = self.page.locator(f'[data-node-id="{action["type"]}"]')
        node.wait_for(state="visible", timeout=self.budget_ms)
        is_field = node.evaluate(f"(el) => el.matches({json.dumps(FIELD)})")
        field = node if is_field else node.locator(FIELD).first
        delay = int(action.get("delay_ms", 0))
        if field.is_disabled():
            field.focus(timeout=self.budget_ms)
            self.page.keyboard.type(action["text"], delay=delay)
            return {}
        field.click(timeout=self.budget_ms)
        if action.get("clear"):
            field.press("ControlOrMeta+a")
            field.press("Backspace")
        else:
            field.press("End")  # the text goes after what the field holds, wherever the click landed
        field.press_sequentially(action["text"], delay=delay, timeout=self.budget_ms)
        return {}

    def fill(self, action: dict[str, Any]) -> dict[str, Any]:
        """Replace the node's field text with ``text`` in one edit: one ``input`` event, as
        pasting over the selected whole text does. The work is one event whatever the length,
        so a case may fill thousands of characters. A disabled field takes no paste: nothing
        happens, as for a user."""
        node = self.page.locator(f'[data-node-id="{action["fill"]}"]')
        node.wait_for(state="visible", timeout=self.budget_ms)
        is_field = node.evaluate(f"(el) => el.matches({json.dumps(FIELD)})")
        field = node if is_field else node.locator(FIELD).first
        if field.is_disabled():
            return {}
        field.fill(action["text"], timeout=self.budget_ms)
        return {}

    def snapshot(self) -> dict[str, Any]:
        return {"tree": self.page.evaluate(SNAPSHOT_JS, [self.supported])}

    def close(self) -> dict[str, Any]:
        if self.context is not None:
            self.context.close()
        self.context = self.page = None
        return {}

    def bye(self) -> dict[str, Any]:
        self.close()
        if self.browser is not None:
            self.browser.close()
        if self.playwright is not None:
            self.playwright.stop()
        if self.httpd is not None:
            self.httpd.shutdown()
        return {}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--dist", help="static directory holding the renderer's page")
    where.add_argument("--url", help="URL of a page served elsewhere")
    p.add_argument("--page", default="index.html", help="page inside --dist, served at \"/\"")
    p.add_argument("--config-var", default="__PHLOEM_CONFIG__", help="global the page reads")
    p.add_argument("--config-key", default="url", help="key holding the WebSocket URL")
    p.add_argument("--supported", default=CORE_COMPONENTS, help="component types the renderer implements")
    p.add_argument("--chromium", default=CHROMIUM)
    p.add_argument("--action-timeout-ms", type=int, default=5000,
                   help="budget of one browser action at --timeout-factor 1 (scaled by the runner's factor)")
    p.add_argument("--name", default="browser-renderer")
    p.add_argument("--version", default="unknown")
    p.add_argument("--language", default="javascript")
    return p


def serve(args: argparse.Namespace) -> int:
    """The stdio loop: one JSON command per line in, one JSON reply per line out."""
    renderer = BrowserRenderer(args)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        name = command.get("cmd")
        try:
            if name == "hello":
                factor = command.get("timeout_factor", 1.0)
                reply = renderer.hello(float(factor) if isinstance(factor, (int, float)) else 1.0)
            elif name == "open":
                reply = renderer.open(command["url"], bool(command.get("clock")))
            elif name == "act":
                reply = renderer.act(command["action"])
            elif name in ("snapshot", "close", "bye", "audit"):
                reply = getattr(renderer, name)()
            elif name == "control":
                reply = renderer.control(command)
            else:
                raise RuntimeError(f"unknown command {name!r}")
            out = reply if reply.get("ok") is False else {"ok": True, **reply}
        except Exception as exc:  # every failure is reported to the runner, never swallowed
            out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(out), flush=True)
        if name == "bye":
            return 0
    renderer.bye()
    return 0


def main(argv: list[str] | None = None) -> int:
    return serve(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
