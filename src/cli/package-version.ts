/** The version esbench reports (`--version`, results), read once from package.json: one place to bump. */
import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const PACKAGE_VERSION: string = pkg.version;
