// MathJax configuration for pymdownx.arithmatex (generic mode): math is written as \( ... \) and \[ ... \].
// When MathJax has loaded, html.mathjax-ready reveals the rendered formulas (stylesheets/extra.css).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  },
  startup: {
    ready: () => {
      MathJax.startup.defaultReady();
      document.documentElement.classList.add("mathjax-ready");
    }
  }
};

// Re-typeset after mkdocs-material's instant navigation (harmless without it).
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.typesetPromise();
    }
  });
}
