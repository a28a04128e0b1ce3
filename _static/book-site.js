// The book's site behaviour that only a script can give (loaded on every page through _static/, see _config.yml).
// 1. Copy buttons (drawn by sphinx-copybutton's script) get a name a screen reader reads out.
// 2. Search result snippets show math as readable text, not raw TeX such as \(s_h\).
// 3. A display formula too wide for the screen, which scrolls in its own box, is a tab stop so a keyboard can
//    scroll it (formulas are otherwise out of the tab order: mathjax3_config in _config.yml).
"use strict";

(() => {
  const COPY_LABEL = "Copy this code to the clipboard";

  const labelCopyButtons = (root) => {
    root.querySelectorAll("button.copybtn:not([aria-label])").forEach((button) => {
      button.setAttribute("aria-label", COPY_LABEL);
    });
  };

  // The copy buttons appear after DOMContentLoaded (sphinx-copybutton retries until its clipboard library loads).
  const watchForCopyButtons = () => {
    labelCopyButtons(document);
    const observer = new MutationObserver(() => labelCopyButtons(document));
    observer.observe(document.body, { childList: true, subtree: true });
    window.addEventListener("load", () => {
      labelCopyButtons(document);
      setTimeout(() => observer.disconnect(), 2000);
    });
  };

  // TeX commands the chapters use, as the characters they stand for.
  const SYMBOLS = {
    times: "×", cdot: "·", cdots: "⋯", ldots: "…", dots: "…", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠",
    neq: "≠", approx: "≈", in: "∈", sum: "Σ", prod: "Π", infty: "∞", to: "→", rightarrow: "→", leftarrow: "←",
    mapsto: "↦", star: "⋆", ast: "∗", circ: "∘", pm: "±", lfloor: "⌊", rfloor: "⌋", lceil: "⌈", rceil: "⌉",
    partial: "∂", nabla: "∇", odot: "⊙", otimes: "⊗", mid: "|", prime: "′", top: "⊤",
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", eta: "η", theta: "θ",
    lambda: "λ", mu: "μ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", chi: "χ", omega: "ω",
    Delta: "Δ", Sigma: "Σ", Omega: "Ω", R: "ℝ",
  };

  // A readable, plain-text rendering of a TeX fragment, good enough for a two-line search snippet.
  const texToText = (tex) => {
    let text = tex.trim()
      .replace(/^\\\(|\\\)$/g, "").replace(/^\\\[|\\\]$/g, "").replace(/^\$\$?|\$\$?$/g, "")
      .replace(/\\begin\{[a-z*]+\}|\\end\{[a-z*]+\}/g, " ")
      .replace(/\\\\/g, "; ").replace(/&/g, " ")
      .replace(/\\(?:left|right|big|Big|bigg|Bigg)\b/g, "")
      .replace(/\\(?:[,;:!]|quad|qquad)/g, " ");
    for (let i = 0; i < 4 && /\\[dt]?frac/.test(text); i++) {
      text = text.replace(/\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}/g, "($1)/($2)");
    }
    text = text
      .replace(/\\(?:mathbb|mathrm|mathbf|mathit|mathcal|operatorname|text|textrm|textit|boldsymbol)\{([^{}]*)\}/g,
        (_, inner) => (inner === "R" ? "ℝ" : inner))
      .replace(/\\([A-Za-z]+)/g, (_, name) => (name in SYMBOLS ? SYMBOLS[name] : name))
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ");
    return text.trim();
  };

  const readableSearchSnippets = () => {
    // `Search` is Sphinx's searchtools.js object, present on the search page only.
    if (typeof Search === "undefined" || typeof Search.htmlToText !== "function" || Search.bookReadableMath) {
      return;
    }
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((element) => {
        element.textContent = ` ${texToText(element.textContent)} `;
      });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    Search.bookReadableMath = true;
  };

  const focusableWhenScrolling = () => {
    document.querySelectorAll("div.math > mjx-container").forEach((formula) => {
      formula.tabIndex = formula.scrollWidth > formula.clientWidth ? 0 : -1;
    });
  };
  const watchWideFormulas = () => {
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
      return;
    }
    MathJax.startup.promise.then(focusableWhenScrolling);
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(focusableWhenScrolling, 300);
    });
  };

  window.bookTexToText = texToText;  // for the site's tests
  const ready = () => { watchForCopyButtons(); readableSearchSnippets(); };
  window.addEventListener("load", watchWideFormulas);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
