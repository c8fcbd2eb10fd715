import { describe, expect, it } from "vitest";
import { safeHref } from "../../src/core";

const PAGE = "https://app.example.com/reports/q3?tab=1";

describe("safeHref (PHL-SEC-003)", () => {
  it.each([
    ["https://example.com/x", "https://example.com/x"],
    ["HTTP://Example.com", "http://example.com/"],
    ["mailto:a@example.com", "mailto:a@example.com"],
    ["/docs", "https://app.example.com/docs"],
    ["q4", "https://app.example.com/reports/q4"],
    ["?tab=2", "https://app.example.com/reports/q3?tab=2"],
    ["#top", "https://app.example.com/reports/q3?tab=1#top"],
    ["//cdn.example.com/a", "https://cdn.example.com/a"],
    ["  https://example.com/ ", "https://example.com/"],
  ])("%j resolves to %j", (href, expected) => {
    expect(safeHref(href, PAGE)).toBe(expected);
  });

  it.each([
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " \t\njavascript:alert(1)",
    "\u0001\u001fjavascript:alert(1)",
    "java\tscr\nipt:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "blob:https://app.example.com/uuid",
    "ftp://example.com/",
    "http://exa mple.com",
  ])("%j is refused", (href) => {
    expect(safeHref(href, PAGE)).toBeNull();
  });

  it("a relative URL against a page without a base is refused; a non-string is refused", () => {
    expect(safeHref("/docs", "about:blank")).toBeNull();
    expect(safeHref(42, PAGE)).toBeNull();
  });
});
