/**
 * report.html + report.md for a results directory: whatever of run.json, sweep.json, capacity.json
 * and study.json it holds (and the trials/*\/run.json behind a study or sweep), drawn with Vega-Lite
 * rendered to static SVG. The HTML is self-contained (inline SVG and CSS, no script), so it can be
 * mailed or archived next to the JSON it came from.
 *
 * The JSON of sweeps, capacity searches and studies is read field by field: a part that is missing
 * or shaped differently degrades its own section (a note says what is missing), never the page.
 */
import fs from 'node:fs';
import { writeFileAtomic } from '../core/atomic-file.ts';
import path from 'node:path';
import { EsbenchError } from '../core/errors.ts';
import { capacitySection } from './html/capacity-section.ts';
import { evidenceSection, type EvidenceRun } from './html/evidence-section.ts';
import { num, pickNum, pickStr, rec, str, arr, type Json } from './html/loose.ts';
import { note, type Section } from './html/markup.ts';
import { renderHtml, renderMarkdown } from './html/page.ts';
import { runFigures, runSections } from './html/run-section.ts';
import { studySections, verdictsOf } from './html/study-section.ts';
import { sweepSections } from './html/sweep-section.ts';

const RESULT_FILES = ['study.json', 'sweep.json', 'capacity.json', 'run.json'] as const;
type ResultFile = (typeof RESULT_FILES)[number];

interface Loaded {
  value: Record<string, Json> | undefined;
  error: string | undefined;
}

function readJson(file: string): Loaded {
  try {
    const value = rec(JSON.parse(fs.readFileSync(file, 'utf8')) as Json);
    return value ? { value, error: undefined } : { value: undefined, error: 'not a JSON object' };
  } catch (e) {
    return { value: undefined, error: (e as Error).message };
  }
}

/** `trials/<name>/run.json` paths, relative to dir, in run order (numeric prefix first). */
function trialPaths(dir: string): string[] {
  const root = path.join(dir, 'trials');
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'run.json')))
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((name) => `trials/${name}/run.json`);
}

/** A cited run as a path relative to dir, `…/run.json` when it names a trial directory. */
function normalise(dir: string, p: string): string {
  let rel = path.isAbsolute(p) ? path.relative(dir, p) : p.replace(/^\.\//, '');
  rel = rel.split(path.sep).join('/');
  if (!rel.endsWith('.json') && fs.existsSync(path.join(dir, rel, 'run.json'))) rel = `${rel}/run.json`;
  return rel;
}

/** `<i>-<key>-r<rep>` (the sweep's and study's trial directory names). */
function parseTrialName(p: string): { key: string; rep: number | null } {
  const name = p.split('/').at(-2) ?? p;
  const m = /^\d+-(.+?)(?:-r(\d+))?$/.exec(name);
  return m ? { key: m[1]!, rep: m[2] ? Number(m[2]) : null } : { key: name, rep: null };
}

function collectEvidence(dir: string, study: Record<string, Json> | undefined, sweep: Record<string, Json> | undefined): EvidenceRun[] {
  const runs = new Map<string, EvidenceRun>();
  const blank = (p: string): EvidenceRun => {
    const { key, rep } = parseTrialName(p);
    return { path: p, key, phase: null, rate: null, rep, p50: null, p99: null, timeouts: null, achievedRate: null, spikes: null, partial: false, present: fs.existsSync(path.join(dir, p)), citedBy: [] };
  };
  // A study's own per-trial figures spare parsing its runs (a 10-minute run.json is ~5 MB).
  const known = new Set(arr(study?.trials).map((t) => pickStr(rec(t), 'path')).filter((p): p is string => p !== null).map((p) => normalise(dir, p)));
  for (const p of trialPaths(dir)) {
    const r = blank(p);
    if (known.has(p)) {
      runs.set(p, r);
      continue;
    }
    const loaded = readJson(path.join(dir, p));
    if (loaded.value) {
      const f = runFigures(loaded.value);
      Object.assign(r, { p50: f.p50, p99: f.p99, timeouts: f.timeouts, achievedRate: f.achievedRate, spikes: f.spikes, partial: f.partial, rate: num(rec(loaded.value.config)?.rate) });
    }
    runs.set(p, r);
  }
  // The study's own figures of each trial take precedence (they are what its verdicts used).
  for (const t of arr(study?.trials).map(rec)) {
    const p0 = pickStr(t, 'path');
    if (!t || !p0) continue;
    const p = normalise(dir, p0);
    const r = runs.get(p) ?? blank(p);
    r.key = pickStr(t, 'key') ?? r.key;
    r.phase = pickStr(t, 'phase');
    r.rate = pickNum(t, 'rate') ?? r.rate;
    r.rep = pickNum(t, 'rep') ?? r.rep;
    r.p50 = pickNum(t, 'p50Ms', 'p50') ?? r.p50;
    r.p99 = pickNum(t, 'p99Ms', 'p99') ?? r.p99;
    r.timeouts = pickNum(t, 'timeouts') ?? r.timeouts;
    r.achievedRate = pickNum(t, 'achievedRate') ?? r.achievedRate;
    r.spikes = pickNum(t, 'spikes') ?? r.spikes;
    r.partial = t.partial === true || r.partial;
    runs.set(p, r);
  }
  for (const l of arr(sweep?.levels).map(rec)) {
    for (const t of arr(l?.trials)) {
      const p0 = str(t) ?? pickStr(rec(t), 'path');
      if (!p0) continue;
      const p = normalise(dir, p0);
      const r = runs.get(p) ?? blank(p);
      r.key = pickStr(l, 'key') ?? r.key;
      runs.set(p, r);
    }
  }
  if (study) {
    for (const v of verdictsOf(study)) {
      for (const p0 of v.runs) {
        const p = normalise(dir, p0);
        const r = runs.get(p) ?? blank(p);
        if (!r.citedBy.some((c) => c.id === v.id)) r.citedBy.push({ id: v.id, label: v.id });
        runs.set(p, r);
      }
    }
  }
  return [...runs.values()];
}

/** Verdict evidence paths as the evidence table names them (so the anchors match). */
function normaliseCitations(dir: string, study: Record<string, Json>): Record<string, Json> {
  const verdicts = arr(study.verdicts).map((v) => {
    const o = rec(v);
    const ev = rec(o?.evidence);
    if (!o || !ev) return v;
    return { ...o, evidence: { ...ev, runs: arr(ev.runs ?? ev.paths).map((r) => (str(r) ? normalise(dir, str(r)!) : r)) } };
  });
  return { ...study, verdicts };
}

const writeAtomically = (file: string, text: string): void => writeFileAtomic(file, text);

export async function writeReport(dir: string): Promise<{ htmlPath: string; mdPath: string }> {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new EsbenchError('RESULTS_NOT_FOUND', `${abs} is not a directory`);
  }
  const loaded = new Map<ResultFile, Loaded>();
  for (const f of RESULT_FILES) if (fs.existsSync(path.join(abs, f))) loaded.set(f, readJson(path.join(abs, f)));
  const trials = trialPaths(abs);
  if (loaded.size === 0 && trials.length === 0) {
    // A results root (results/) holds one directory per result: name one.
    const inside = fs.readdirSync(abs, { withFileTypes: true }).filter((d) => d.isDirectory() && RESULT_FILES.some((f) => fs.existsSync(path.join(abs, d.name, f))));
    const hint = inside.length > 0 ? `; give one result's directory, e.g. ${path.join(abs, inside.at(-1)!.name)}` : '';
    throw new EsbenchError('RESULTS_NOT_FOUND', `${abs} holds no ${RESULT_FILES.join(', ')} or trials/*/run.json${hint}`);
  }
  const study = loaded.get('study.json')?.value;
  const sweep = loaded.get('sweep.json')?.value;
  const capacity = loaded.get('capacity.json')?.value ?? rec(study?.capacity);
  const run = loaded.get('run.json')?.value;

  const sections: Section[] = [];
  const failed = [...loaded].filter(([, l]) => l.error !== undefined);
  if (failed.length > 0) {
    sections.push({ id: 'unreadable', title: 'Unreadable files', body: note(failed.map(([f, l]) => `${f} could not be read: ${l.error}`).join('; ')) });
  }
  const guarded = async (title: string, id: string, f: () => Promise<Section[]> | Section[]): Promise<Section[]> => {
    try {
      return await f();
    } catch (e) {
      return [{ id, title, body: note(`This section could not be drawn: ${(e as Error).message}`) }];
    }
  };
  if (study) sections.push(...(await guarded('Verdicts', 'verdicts', () => studySections(normaliseCitations(abs, study)))));
  if (sweep) sections.push(...(await guarded('Sweep', 'sweep', () => sweepSections(sweep))));
  if (capacity) {
    const fromStudy = !loaded.get('capacity.json')?.value;
    sections.push(
      ...(await guarded('Capacity', 'capacity', async () => [
        await capacitySection(capacity, { title: fromStudy ? 'Capacity (from study.json)' : 'Capacity' }),
      ])),
    );
  }
  if (run) sections.push(...(await guarded('The run', 'summary', () => runSections(run, { prefix: '', label: str(run.id) ?? path.basename(abs) }))));
  const evidence = study || sweep || trials.length > 0 ? collectEvidence(abs, study, sweep) : [];
  if (evidence.length > 0) sections.push(...(await guarded('Evidence: the runs', 'evidence', async () => [await evidenceSection(evidence, { chart: !sweep || Boolean(study) })])));

  // Notes close the page, after the evidence they comment on.
  sections.sort((a, b) => Number(a.id === 'study-notes') - Number(b.id === 'study-notes'));
  const kind = study ? 'study' : sweep ? 'sweep' : loaded.get('capacity.json') ? 'capacity search' : run ? 'run' : 'trials';
  const id = str(study?.id) ?? str(sweep?.id) ?? str(capacity?.id) ?? str(run?.id) ?? path.basename(abs);
  const started = str(study?.startedAt) ?? str(sweep?.startedAt) ?? str(run?.startedAt);
  const input = {
    title: `esbench ${kind} report — ${id}`,
    subtitle: `${started ? `Started ${started}. ` : ''}Report written ${new Date().toISOString()} from the saved JSON in ${abs}.`,
    sources: [...loaded.keys(), ...(trials.length > 0 ? [`trials/ (${trials.length} runs)`] : [])].map((s) => (s.startsWith('trials/') ? 'trials/' : s)),
    sections,
  };
  const htmlPath = path.join(abs, 'report.html');
  const mdPath = path.join(abs, 'report.md');
  writeAtomically(htmlPath, renderHtml(input));
  writeAtomically(mdPath, renderMarkdown(input));
  return { htmlPath, mdPath };
}
