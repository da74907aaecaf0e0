/**
 * The esbench CLI: a thin shell over the library. Every error ends here as one readable line and
 * the catalogue's exit code (2 for usage), never a stack trace (ESBENCH_DEBUG=1 shows it).
 */
import { Command, CommanderError } from 'commander';
import { ERROR_CATALOGUE, EsbenchError, isEsbenchError } from '../core/errors.ts';
import { redactUrl } from '../core/redact.ts';
import type { CliContext } from './context.ts';
import { PACKAGE_VERSION } from './package-version.ts';
import { COMMANDS } from './commands/index.ts';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('esbench')
    .description('Tune the pools and autovacuum of a PostgreSQL event store, with evidence.')
    .version(PACKAGE_VERSION)
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => ctx.stdout(s),
      // commander prints "error: ..." itself; keep it to the first line, as our own errors are.
      writeErr: (s) => ctx.stderr(`${s.split('\n').find((l) => l.trim()) ?? s}\n`),
    });
  for (const register of COMMANDS) register(program, ctx);
  // Sub-commands inherit the error behaviour.
  const configure = (cmd: Command) => {
    cmd.exitOverride().showSuggestionAfterError(true).configureOutput(program.configureOutput());
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactUrl(message.split('\n')[0] ?? message).replace(/postgres(ql)?:\/\/[^\s]+/g, (u) => redactUrl(u));
}

export async function main(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: leave now
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: CliContext = {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    signal: controller.signal,
    exitCode: 0,
    ...overrides,
  };
  try {
    const program = buildProgram(ctx);
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; every usage error is exit 2 (commander already printed the line).
      return error.exitCode === 0 ? 0 : ERROR_CATALOGUE.BAD_FLAG.exit;
    }
    if (ctx.env.ESBENCH_DEBUG) ctx.stderr(`${(error as Error).stack}\n`);
    if (isEsbenchError(error)) {
      ctx.stderr(`esbench: ${error.code}: ${oneLine(error)}\n`);
      return error.exitCode;
    }
    const wrapped = new EsbenchError('INTERNAL', oneLine(error));
    ctx.stderr(`esbench: ${wrapped.code}: ${wrapped.message}\n`);
    return wrapped.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
