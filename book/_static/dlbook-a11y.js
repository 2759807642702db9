/* Accessibility fixes for what the theme and its extensions write into every page
   (tests/book/test_accessibility.py runs axe-core on every page).

   These three cannot be fixed by configuration or by a template (the HTML comes from
   Python code in pydata-sphinx-theme, myst-nb and docutils), so this script mends the
   page once its HTML is parsed (DOMContentLoaded). It changes only ARIA attributes:
   what is shown and how it behaves stay the theme's. axe-core, like a screen reader,
   sees the page after this has run. The search button and the colour-mode switch are
   fixed in book/_templates/ instead, and the link colour in exercises in dlbook.css. */
(function () {
  "use strict";

  function mend() {
    // 1. The sidebar's disclosure triangle that opens a chapter's sections is a
    //    <summary> holding only an icon, so it has no name (axe: summary-name, WCAG
    //    4.1.2). Name it after the chapter whose sections it shows.
    document.querySelectorAll("details > summary").forEach(function (summary) {
      if (summary.textContent.trim() || summary.hasAttribute("aria-label")) return;
      var item = summary.closest("li");
      var link = item && item.querySelector(":scope > a");
      var title = link ? link.textContent.trim() : "";
      summary.setAttribute("aria-label", title ? "Sections of " + title : "Sections");
    });

    // 2. myst-nb's toggle for hidden code shows "Show code cell source" but is named
    //    "Toggle hidden content" by an aria-label (axe: label-content-name-mismatch,
    //    WCAG 2.5.3). Without the aria-label its name is the text it shows.
    document
      .querySelectorAll("details.hide > summary[aria-label]")
      .forEach(function (summary) {
        if (summary.textContent.trim()) summary.removeAttribute("aria-label");
      });

    // 3. The bibliography: docutils marks each entry role="doc-biblioentry", a role
    //    deprecated in DPUB-ARIA 1.1 (axe: aria-deprecated-role), inside a
    //    role="list" that then has no list items (axe: aria-required-children, WCAG
    //    1.3.1). DPUB-ARIA 1.1 says to use list items instead.
    document
      .querySelectorAll('[role="doc-biblioentry"]')
      .forEach(function (entry) {
        entry.setAttribute("role", "listitem");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mend);
  } else {
    mend();
  }
})();
