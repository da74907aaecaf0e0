import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('write report.html (self-contained: inline SVG charts, no script) and report.md beside the JSON of a results directory')
    .argument('<results-dir>', 'a directory holding run.json, sweep.json, capacity.json and/or study.json (and trials/*/run.json)')
    .addHelpText('after', '\n`run` writes the report of its run itself; this command (re)draws any saved result.')
    .action(async (dir: string) => {
      // Loaded on use: vega is only needed here, not at every CLI start.
      const { writeReport } = await import('../../report/report-writer.ts');
      const { htmlPath, mdPath } = await writeReport(path.resolve(ctx.cwd, dir));
      ctx.stdout(`report: ${htmlPath}\nreport: ${mdPath}\n`);
    });
}
