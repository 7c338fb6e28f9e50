"""Accessibility checks for the browser tests: axe-core, control contrast, touch targets.

axe-core (tests/vendor/axe.min.js, from npm) is injected through the DevTools protocol, which
the pages' Content-Security-Policy does not govern, so the app never serves it. `shoot`
is what every screenshot goes through: the page is checked, in light and in dark, and
photographed in each.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
AXE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text()

# Everything axe finds at these levels fails a test; "moderate" and "minor" are reported
# by axe as advice and left to judgement.
FAILING = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
  }));
}"""

# Each visible control's edge against what is behind it: its border, or (with no border
# that shows) its own background, must reach 3:1 (WCAG 1.4.11, non-text contrast).
CONTROL_CONTRAST = """() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (x, y) => {
    const [a, b] = [lum(x), lum(y)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  const behind = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor) || { r: 255, g: 255, b: 255 };
  };
  const problems = [];
  const controls = document.querySelectorAll(
    "button, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), .button"
  );
  for (const el of controls) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden" || el.closest("[hidden]")) continue;
    const back = behind(el);
    const own = parse(style.backgroundColor);
    const border = parse(style.borderTopColor);
    const bordered = parseFloat(style.borderTopWidth) >= 1 && border && border.a > 0.5;
    const best = Math.max(
      bordered ? ratio(border, back) : 0,
      own && own.a > 0.5 ? ratio(own, back) : 0,
    );
    // A control drawn as plain text (a link-like button) is judged as text, by axe.
    const plain = !bordered && (!own || own.a <= 0.5);
    if (!plain && best < 3) {
      problems.push(`${el.tagName.toLowerCase()}#${el.id || ""}.${el.className}: ${best.toFixed(2)}:1`);
    }
  }
  return problems;
}"""

# Visible targets a finger must hit, smaller than 44 px either way. Links inside running text
# are exempt (WCAG 2.5.5 / 2.5.8), as are the boxes of checkboxes and radios, whose labels
# are the targets (those are measured). Controls inside model output (a code block's Copy)
# are targets like any other.
SMALL_TARGETS = """() => {
  const small = [];
  const targets = document.querySelectorAll(
    "a[href], button, summary, select, textarea, label.choice, .tool-option, " +
    "label:has(input[type=checkbox]:not([disabled])), label:has(input[type=radio]:not([disabled])), " +
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
  );
  for (const el of targets) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden") continue;
    if (el.closest("[hidden], details:not([open]) > :not(summary)")) continue;
    if (el.tagName === "A" && style.display === "inline") continue; // In running text.
    // Model output: its links are in running text (its controls, a code block's Copy, are not).
    if (el.tagName === "A" && el.closest(".md")) continue;
    if (el.classList.contains("skip-link")) continue; // Off screen until focused.
    if (box.width < 43.5 || box.height < 43.5) {
      small.push(`${el.tagName.toLowerCase()}#${el.id || ""}.${el.className} "${(el.textContent || el.value || "").trim().slice(0, 30)}": ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE)  # Through DevTools: the page's CSP does not apply.
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in FAILING]


def check(page, where: str) -> None:
    """axe and the control edges, in the page's current colours."""
    found = axe_violations(page)
    assert found == [], f"{where}: {found}"
    edges = page.evaluate(CONTROL_CONTRAST)
    assert edges == [], f"{where}: control edges under 3:1: {edges}"


def shoot(page, name: str, *, full_page: bool = True) -> None:
    """Check the page in light and in dark, and photograph it in each (`name`, `name-dark`).

    The colours follow the device here (the theme setting is "system"), so emulating the
    device's preference switches them; the page is put back in light afterwards.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme, suffix in (("light", ""), ("dark", "-dark")):
        page.emulate_media(color_scheme=scheme)
        check(page, f"{name}{suffix}")
        page.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"), full_page=full_page)
    page.emulate_media(color_scheme="light")


def small_targets(page) -> list[str]:
    return page.evaluate(SMALL_TARGETS)
