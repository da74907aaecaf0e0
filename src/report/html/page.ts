/**
 * report.html and report.md around the sections: title, what the page was made from, contents,
 * and the legend of where figures are measured. The HTML carries its CSS inline and no script:
 * nothing is fetched or run when it is opened.
 */
import { esc, type Section } from './markup.ts';

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; background: #fafafa; margin: 0; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 28px 64px; background: #fff; box-shadow: 0 0 0 1px #eee; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 10px; padding-top: 8px; border-top: 1px solid #e5e5e5; }
h3 { font-size: 15px; margin: 24px 0 8px; }
p, ul { margin: 6px 0 10px; }
.sub { color: #555; margin: 0 0 12px; }
.legend { background: #f6f8fa; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 12px; font-size: 13px; }
nav.toc { font-size: 13px; margin: 12px 0 8px; }
nav.toc a { margin-right: 14px; white-space: nowrap; }
a { color: #1f5fa8; }
.table-wrap { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; font-size: 13px; min-width: 50%; }
caption { caption-side: top; text-align: left; color: #555; font-size: 12px; padding: 0 0 4px; }
th, td { border: 1px solid #e2e2e2; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
tbody tr:nth-child(even) td { background: #fcfcfd; }
tr:target td { background: #fff7d6 !important; }
td.verdict { white-space: nowrap; }
.v-holds { color: #116b2e; font-weight: 600; }
.v-fails { color: #b3261e; font-weight: 600; }
.v-unknown { color: #7a5b00; font-weight: 600; }
.muted, .missing { color: #777; font-size: 12px; }
.note { color: #5b4a00; background: #fff8e1; border-left: 3px solid #f2c94c; padding: 6px 10px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 0 16px; }
figure.chart { margin: 12px 0 20px; padding: 8px; border: 1px solid #eee; border-radius: 6px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #444; margin-top: 6px; }
`;

export interface PageInput {
  title: string;
  subtitle: string;
  sources: string[];
  sections: Section[];
}

const LEGEND =
  'Where figures are measured: client = the load generator (latency from the intended send time, so queueing in the generator counts); ' +
  'service = Server-Timing headers of the service; database = the observer on the PostgreSQL nodes (pg_stat_statements, pg_stat_* views); ' +
  'CPU = /proc per process. Derived figures are differences of two measurements and say so.';

export function renderHtml(input: PageInput): string {
  const toc = input.sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join(' ');
  const body = input.sections.map((s) => `<section id="${esc(s.id)}">\n<h2>${esc(s.title)}</h2>\n${s.body.html}\n</section>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(input.title)}</h1>
<p class="sub">${esc(input.subtitle)}</p>
<p class="sub">Made from: ${input.sources.map((s) => `<a href="${esc(s)}">${esc(s)}</a>`).join(', ')}</p>
<p class="legend">${esc(LEGEND)}</p>
<nav class="toc">${toc}</nav>
${body}
</main>
</body>
</html>
`;
}

export function renderMarkdown(input: PageInput): string {
  const toc = input.sections.map((s) => `[${s.title}](#${s.id})`).join(' · ');
  return [
    `# ${input.title}`,
    input.subtitle,
    `Made from: ${input.sources.map((s) => `[${s}](${s})`).join(', ')}. Charts are in report.html beside this file.`,
    `> ${LEGEND}`,
    toc,
    ...input.sections.map((s) => `<a id="${s.id}"></a>\n\n## ${s.title}\n\n${s.body.md}`),
    '',
  ].join('\n\n');
}
