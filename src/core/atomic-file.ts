/**
 * Result files are whole or absent: written to a temporary name beside the target, optionally
 * fsynced, then renamed over it (rename is atomic on one file system). A reader — a resumed sweep,
 * the report, a crash recovery — never sees half a file.
 */
import fs from 'node:fs';
import path from 'node:path';

export function writeFileAtomic(file: string, text: string, options: { fsync?: boolean } = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    // The settings journal must survive a crash of the machine, not only of esbench.
    if (options.fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Pretty JSON with a trailing newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown, options: { fsync?: boolean } = {}): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, options);
}
