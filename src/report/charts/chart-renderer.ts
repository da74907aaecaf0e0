/**
 * Vega-Lite spec → static SVG string, in Node, with no canvas and no browser: vega-lite compiles the
 * spec to Vega, and vega's headless View renders it to SVG (the `none` renderer; text widths are
 * estimated, which is all SVG output needs). The SVG is inlined in report.html, so nothing is fetched
 * or run when the page is viewed.
 */
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/**
 * vega and vega-lite take ~1.2 s to import; loaded on the first chart, not by every CLI start
 * (the CLI imports every command, and most invocations draw no chart).
 */
let libraries: Promise<[typeof Vega, typeof VegaLite]> | undefined;
const loadVega = () => (libraries ??= Promise.all([import('vega'), import('vega-lite')]));

/** What every esbench chart shares: font, sizes, a quiet axis style. */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelLimit: 220, labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, orient: 'right' as const, labelLimit: 320, titleLimit: 320 },
  title: { fontSize: 13, anchor: 'start' as const, subtitleFontSize: 11, subtitleColor: '#555' },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

type Logger = NonNullable<NonNullable<Parameters<typeof VegaLite.compile>[1]>['logger']>;

/**
 * Vega and Vega-Lite log to the console by default; a report written at the end of `esbench run`
 * must not add noise to its output, so warnings are kept silent (errors still throw).
 */
function quietLogger(): Logger {
  let level = 0;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error: () => logger,
    warn: () => logger,
    info: () => logger,
    debug: () => logger,
  };
  return logger as unknown as Logger;
}

/** Renders one Vega-Lite spec to an SVG string. Throws when the spec does not compile. */
export async function renderChart(spec: TopLevelSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await loadVega();
  const withConfig = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const vg = compile(withConfig, { logger: quietLogger() }).spec;
  const view = new View(parse(vg), { renderer: 'none', logger: quietLogger() });
  try {
    const svg = await view.toSVG();
    // Scales with the page (the viewBox keeps the aspect ratio) instead of a fixed pixel width.
    return svg.replace(/^<svg([^>]*?) width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/, '<svg$1 width="$2" height="$3" style="max-width:100%;height:auto"');
  } finally {
    view.finalize();
  }
}
