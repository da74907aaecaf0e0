/**
 * Every command that saves results (run, sweep, capacity, study) ends by drawing report.html from
 * the JSON it saved. Drawing is a convenience on top of the saved result: when it fails, the command
 * keeps its outcome and says why the page is missing.
 */
import { writeReport } from '../report/report-writer.ts';
import type { CliContext } from './context.ts';

/** Writes `<dir>/report.html` and prints its path (to stderr when stdout carries JSON). */
export async function writeReportStep(ctx: CliContext, dir: string, stdoutIsJson: boolean): Promise<void> {
  try {
    const report = await writeReport(dir);
    (stdoutIsJson ? ctx.stderr : ctx.stdout)(`report: ${report.htmlPath}\n`);
  } catch (e) {
    ctx.stderr(`warning: report.html not written: ${(e as Error).message}\n`);
  }
}
