import { describe, expect, it } from 'vitest';
import { listPids, parseProcStat, procCwd, readProcStat } from '../../src/core/proc.ts';

describe('parseProcStat', () => {
  it('reads the fields after the last ")" of a comm holding spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const line = '4242 (post gres) (x) ) S 77 4242 4242 0 -1 4194560 10 0 0 0 123 45 600 7 20 0 1 0 100 0 0';
    expect(parseProcStat(line)).toEqual({ state: 'S', ppid: 77, selfTicks: 168, reapedChildrenTicks: 607 });
  });

  it('rejects what is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12 (short) S 1 2')).toBeNull();
  });
});

describe.runIf(process.platform === 'linux')('/proc of this process', () => {
  it('lists it, reads its stat and its working directory', () => {
    expect(listPids()).toContain(process.pid);
    expect(readProcStat(process.pid)?.ppid).toBe(process.ppid);
    expect(procCwd(process.pid)).toBe(process.cwd());
    expect(readProcStat(2 ** 22 + 1)).toBeNull(); // above pid_max's ceiling: never a process
  });
});
