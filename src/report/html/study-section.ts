/**
 * The study (study.json): the verdict table — one anchored row per criterion and claim, with its
 * figure, CI and links to the runs behind it — then the configurations and the rate pair.
 */
import { arr, estimateOf, num, pickNum, pickStr, rec, str, type Json } from './loose.ts';
import { anchorId, cellHtml, cellMd, esc, fmt, fmtCi, join, list, note, para, table, type Cell, type Rendered, type Section } from './markup.ts';
import { runLinks } from './sweep-section.ts';

export interface VerdictView {
  id: string;
  criterion: string;
  verdict: string;
  conclusive: boolean | null;
  figure: string;
  ci: { lo: number | null; hi: number | null; level: number | null } | null;
  unit: string | null;
  runs: string[];
  text: string;
}

export function verdictsOf(study: Record<string, Json>): VerdictView[] {
  return arr(study.verdicts)
    .map(rec)
    .filter((v): v is Record<string, Json> => v !== undefined)
    .map((v, i) => {
      const ev = v.evidence;
      const evRec = rec(ev);
      const runs = (evRec ? arr(evRec.runs ?? evRec.paths) : arr(ev)).map((r) => str(r) ?? pickStr(rec(r), 'path') ?? '').filter((r) => r !== '');
      const ci = estimateOf(v.ci);
      return {
        id: pickStr(v, 'id') ?? `v${i + 1}`,
        criterion: pickStr(v, 'criterion') ?? '?',
        verdict: pickStr(v, 'verdict') ?? '?',
        conclusive: typeof v.conclusive === 'boolean' ? v.conclusive : null,
        figure: pickStr(v, 'figure') ?? (num(v.value) !== null ? `${fmt(num(v.value), 2)} ${pickStr(v, 'unit') ?? ''}` : '–'),
        ci: ci && (ci.lo !== null || ci.hi !== null) ? { lo: ci.lo, hi: ci.hi, level: ci.level } : null,
        unit: pickStr(v, 'unit'),
        runs,
        text: pickStr(evRec, 'text') ?? (typeof ev === 'string' ? ev : ''),
      };
    });
}

function verdictClass(v: string): string {
  if (v === 'holds') return 'v-holds';
  if (v === 'does not hold') return 'v-fails';
  return 'v-unknown';
}

function evidenceCell(v: VerdictView): Cell {
  const links = runLinks(v.runs);
  if (!v.text) return links;
  return {
    html: `${esc(v.text)}${v.runs.length ? `<br>${cellHtml(links)}` : ''}`,
    md: `${v.text}${v.runs.length ? ` — ${cellMd(links)}` : ''}`,
  };
}

export function studySections(study: Record<string, Json>): Section[] {
  const verdicts = verdictsOf(study);
  const head: Rendered[] = [];
  if (study.partial === true) head.push(note('This study was interrupted (partial): verdicts cover the runs that finished.'));
  const pair = rec(study.pair);
  const rates = rec(study.studyRates);
  if (pair) {
    head.push(
      para(
        `Judged at ${fmt(num(pair.low), 0)} and ${fmt(num(pair.high), 0)} req/s${pair.scaled === true ? ` (scaled to this machine from the study's ${fmt(num(rates?.low), 0)}/${fmt(num(rates?.high), 0)} req/s: ${pickStr(pair, 'reason') ?? 'see capacity'})` : ''}.`,
      ),
    );
  }
  if (verdicts.length === 0) head.push(note('study.json holds no verdicts.'));
  const rows: Cell[][] = verdicts.map((v) => [
    v.criterion,
    { html: `<span class="${verdictClass(v.verdict)}">${esc(v.verdict)}</span>${v.conclusive === false ? ' <span class="muted">(not conclusive)</span>' : ''}`, md: `**${v.verdict}**${v.conclusive === false ? ' (not conclusive)' : ''}`, cls: 'verdict' },
    v.figure,
    v.ci ? `${fmtCi(v.ci.lo, v.ci.hi, 2)}${v.unit ? ` ${v.unit}` : ''}${v.ci.level ? ` (${Math.round(v.ci.level * 100)} %)` : ''}` : '–',
    evidenceCell(v),
  ]);
  const verdictTable = table(['criterion or claim', 'verdict', 'figure (where measured)', 'CI', 'evidence (runs)'], rows, {
    id: 'verdict-table',
    rowIds: verdicts.map((v) => anchorId('verdict', v.id)),
  });
  const sections: Section[] = [{ id: 'verdicts', title: 'Verdicts', body: join([...head, verdictTable]) }];

  const levels = arr(study.levels).map(rec).filter((l): l is Record<string, Json> => l !== undefined);
  if (levels.length > 0) {
    sections.push({
      id: 'configurations',
      title: 'Configurations',
      body: table(
        ['key', 'factor', 'value', 'baseline', 'what it is'],
        levels.map((l) => [pickStr(l, 'key') ?? '?', pickStr(l, 'factor') ?? '–', pickStr(l, 'value') ?? '–', pickStr(l, 'baseline') ?? '–', pickStr(l, 'description') ?? '–']),
      ),
    });
  }
  const notes = arr(study.notes).map((n) => str(n) ?? '').filter((n) => n !== '');
  const memory = rec(study.memory);
  if (memory && memory.measurable === false) notes.push(`memory split not measurable here: ${pickStr(memory, 'reason') ?? ''}`);
  if (study.settingsRestored === false) notes.push('settings were NOT all restored at the end of the study (see study.json)');
  const history = rec(study.history);
  if (history) notes.push(`history: ${fmt(pickNum(history, 'events'), 0)} events`);
  if (notes.length > 0) sections.push({ id: 'study-notes', title: 'Notes', body: list(notes) });
  return sections;
}
