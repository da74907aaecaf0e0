/**
 * The small pieces report.html and report.md are built from: escaping, number formatting, tables and
 * figures, each producing the HTML and the Markdown of the same content so the two files agree.
 */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Markdown table cells cannot hold pipes or newlines. */
function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtCi(lo: number | null, hi: number | null, digits = 1): string {
  return lo === null || hi === null ? '–' : `[${fmt(lo, digits)}, ${fmt(hi, digits)}]`;
}

/** An anchor id from any text (a run path, a verdict id). */
export function anchorId(prefix: string, text: string): string {
  return `${prefix}-${text.replace(/\/run\.json$/, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '')}`;
}

/** A table cell: plain text (escaped in HTML), or different HTML and Markdown renderings. */
export type Cell = string | { html: string; md: string; cls?: string };

export function link(text: string, href: string): Cell {
  return { html: `<a href="${esc(href)}">${esc(text)}</a>`, md: `[${text}](${href})` };
}

export interface Rendered {
  html: string;
  md: string;
}

export function table(headers: string[], rows: Cell[][], options: { id?: string; rowIds?: Array<string | null>; caption?: string } = {}): Rendered {
  const th = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows
    .map((r, i) => {
      const rid = options.rowIds?.[i];
      const tds = r
        .map((c) => (typeof c === 'string' ? `<td>${esc(c)}</td>` : `<td${c.cls ? ` class="${esc(c.cls)}"` : ''}>${c.html}</td>`))
        .join('');
      return `<tr${rid ? ` id="${esc(rid)}"` : ''}>${tds}</tr>`;
    })
    .join('\n');
  const caption = options.caption ? `<caption>${esc(options.caption)}</caption>` : '';
  const html = `<div class="table-wrap"><table${options.id ? ` id="${esc(options.id)}"` : ''}>${caption}<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
  const md = [
    ...(options.caption ? [`*${options.caption}*`, ''] : []),
    `| ${headers.map(mdCell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    // Row anchors as inline HTML, so links into the table work in Markdown viewers too.
    ...rows.map((r, i) => {
      const rid = options.rowIds?.[i];
      const cells = r.map((c) => mdCell(typeof c === 'string' ? c : c.md));
      if (rid && cells.length > 0) cells[0] = `<a id="${rid}"></a>${cells[0]}`;
      return `| ${cells.join(' | ')} |`;
    }),
  ].join('\n');
  return { html, md };
}

/** A chart with its caption; Markdown gets the caption and a pointer to report.html. */
export function figure(svg: string, caption: string, id?: string): Rendered {
  return {
    html: `<figure class="chart"${id ? ` id="${esc(id)}"` : ''}>${svg}<figcaption>${esc(caption)}</figcaption></figure>`,
    md: `*Figure (in report.html): ${caption}*`,
  };
}

export function para(text: string): Rendered {
  return { html: `<p>${esc(text)}</p>`, md: text };
}

export function note(text: string): Rendered {
  return { html: `<p class="note">${esc(text)}</p>`, md: `> ${text}` };
}

export function list(items: string[]): Rendered {
  return { html: `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`, md: items.map((i) => `- ${i}`).join('\n') };
}

export function heading(level: 2 | 3, text: string, id?: string): Rendered {
  return { html: `<h${level}${id ? ` id="${esc(id)}"` : ''}>${esc(text)}</h${level}>`, md: `${'#'.repeat(level)} ${text}` };
}

/** Figures side by side where the page is wide enough (CSS grid). */
export function grid(parts: Rendered[]): Rendered {
  return { html: `<div class="grid">${parts.map((p) => p.html).join('\n')}</div>`, md: parts.map((p) => p.md).join('\n\n') };
}

export function join(parts: Rendered[]): Rendered {
  return { html: parts.map((p) => p.html).join('\n'), md: parts.map((p) => p.md).join('\n\n') };
}

/** One section of the report: its anchor, title (for the contents) and body. */
export interface Section {
  id: string;
  title: string;
  body: Rendered;
}

export function cellHtml(c: Cell): string {
  return typeof c === 'string' ? esc(c) : c.html;
}

export function cellMd(c: Cell): string {
  return typeof c === 'string' ? c : c.md;
}
