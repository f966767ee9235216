/**
 * plotly layouts coloured from JupyterLab's theme variables, so charts read in light and dark
 * themes; `onThemeChange` re-colours live charts when the user switches.
 */
const FALLBACK = {
  font: "#333333",
  grid: "#e0e0e0",
  muted: "#757575",
};

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

/** Series colours that keep contrast on white and on near-black backgrounds. */
export const SERIES_COLORS = [
  "#1f77b4",
  "#e6550d",
  "#2ca02c",
  "#9467bd",
  "#d62728",
  "#17becf",
  "#bcbd22",
  "#8c564b",
];

export function themedLayout(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const font = cssVar("--jp-ui-font-color1", FALLBACK.font);
  const grid = cssVar("--jp-border-color2", FALLBACK.grid);
  const axis = { color: font, gridcolor: grid, zerolinecolor: grid, automargin: true };
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: font, family: cssVar("--jp-ui-font-family", "sans-serif"), size: 12 },
    margin: { l: 50, r: 50, t: 30, b: 40 },
    legend: { orientation: "h", y: -0.2, font: { color: font } },
    xaxis: { ...axis },
    yaxis: { ...axis },
    ...extra,
  };
}

export function mutedColor(): string {
  return cssVar("--jp-ui-font-color2", FALLBACK.muted);
}

/** Calls `callback` whenever JupyterLab swaps its theme; returns a function that stops it. */
export function onThemeChange(callback: () => void): () => void {
  const observer = new MutationObserver(callback);
  observer.observe(document.body, {
    attributes: true,
    attributeFilter: ["data-jp-theme-name", "data-jp-theme-light"],
  });
  return () => observer.disconnect();
}

/** Resolves once `el` is in the document and has a width, so plotly can measure it. */
export function whenLaidOut(el: HTMLElement): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (el.isConnected && el.clientWidth > 0) resolve();
      else requestAnimationFrame(check);
    };
    check();
  });
}
