"""An accessibility check for any page open in Playwright: the basics a screen reader needs.

Call `assert_accessible(page)` after a page has loaded; it raises `AccessibilityProblems`
listing every offender, or returns quietly. `accessibility_problems(page)` returns the list.
"""

from __future__ import annotations

from playwright.sync_api import Page

# Runs in the page. Each problem is one line naming the rule and the element that breaks it.
_AUDIT = r"""
() => {
  const problems = [];
  const describe = (el) => {
    let text = "<" + el.tagName.toLowerCase();
    for (const name of ["id", "name", "type", "class", "src", "href"]) {
      const value = el.getAttribute(name);
      if (value !== null) text += ` ${name}="${value.slice(0, 60)}"`;
    }
    return text + ">";
  };
  const visible = (el) => {
    if (el.closest("[hidden]")) return false;
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none"
      && el.getClientRects().length > 0;
  };
  const textOf = (ids) => (ids || "").split(/\s+/).filter(Boolean)
    .map((id) => document.getElementById(id))
    .map((node) => (node ? node.textContent.trim() : ""))
    .join(" ").trim();
  const byId = (id) => document.getElementById(id);

  const lang = (document.documentElement.getAttribute("lang") || "").trim();
  if (!lang) problems.push("html has no lang attribute");

  const headings = document.querySelectorAll("h1");
  if (headings.length !== 1) {
    const texts = [...headings].map((h) => JSON.stringify(h.textContent.trim())).join(", ");
    problems.push(`expected exactly one h1, found ${headings.length}${texts ? ": " + texts : ""}`);
  }

  const seen = new Map();
  for (const el of document.querySelectorAll("[id]")) {
    seen.set(el.id, (seen.get(el.id) || 0) + 1);
  }
  for (const [id, count] of seen) {
    if (count > 1) problems.push(`id "${id}" is used ${count} times (labels point at ids)`);
  }

  const controls = document.querySelectorAll("input, select, textarea");
  for (const el of controls) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    const notTyped = ["hidden", "submit", "button", "reset", "image"];
    if (el.tagName === "INPUT" && notTyped.includes(type)) continue;
    if (!visible(el)) continue;
    const forLabel = el.id && [...document.querySelectorAll("label[for]")]
      .some((label) => label.htmlFor === el.id && label.textContent.trim());
    const wrapping = el.closest("label") && el.closest("label").textContent.trim();
    const ariaLabel = (el.getAttribute("aria-label") || "").trim();
    const labelledBy = textOf(el.getAttribute("aria-labelledby"));
    if (!(forLabel || wrapping || ariaLabel || labelledBy)) {
      problems.push(`form control without a label: ${describe(el)}`);
    }
    for (const id of (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean)) {
      if (!byId(id)) {
        problems.push(`aria-describedby points at missing id "${id}": ${describe(el)}`);
      }
    }
  }

  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`image without alt: ${describe(img)}`);
  }

  const buttons = document.querySelectorAll(
    "button, [role=button], input[type=submit], input[type=button], input[type=reset], " +
    "input[type=image]");
  for (const el of buttons) {
    const name = el.tagName === "INPUT"
      ? (el.type === "image" ? el.getAttribute("alt") : el.value) || ""
      : el.innerText || el.textContent || "";
    const label = (el.getAttribute("aria-label") || "").trim() ||
      textOf(el.getAttribute("aria-labelledby")) || (el.getAttribute("title") || "").trim();
    if (!name.trim() && !label) problems.push(`button without accessible text: ${describe(el)}`);
  }

  for (const link of document.querySelectorAll("a[href]")) {
    const name = (link.textContent || "").trim()
      || (link.getAttribute("aria-label") || "").trim()
      || textOf(link.getAttribute("aria-labelledby"))
      || [...link.querySelectorAll("img[alt]")].map((img) => img.alt.trim()).join("");
    if (!name) problems.push(`link without text: ${describe(link)}`);
  }
  return problems;
}
"""


class AccessibilityProblems(AssertionError):
    """The page breaks one or more of the checks; the message lists each offender."""

    def __init__(self, url: str, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{len(problems)} accessibility problem(s) on {url}:\n{listing}")


def accessibility_problems(page: Page) -> list[str]:
    """Every problem found on the page as it is now, one line each; empty when none."""
    return list(page.evaluate(_AUDIT))


def assert_accessible(page: Page) -> None:
    """Raise `AccessibilityProblems` unless the page passes every check.

    Checks: `html` has a `lang`; exactly one `h1`; every visible input, select and textarea
    (not hidden/submit/button inputs) has a label (`label[for]`, a wrapping `label`,
    `aria-label` or `aria-labelledby`) and its `aria-describedby` ids exist; ids are unique;
    every `img` has `alt`; buttons and links have accessible text.
    """
    problems = accessibility_problems(page)
    if problems:
        raise AccessibilityProblems(page.url, problems)
