import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findExecutable, fingerprint, tailLines } from './program-files';

const dir = mkdtempSync(path.join(tmpdir(), 'program-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('program files', () => {
  it('finds an executable by path or on PATH, and says why not', () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(bin, 'tool'), 0o755);
    writeFileSync(path.join(bin, 'plain'), 'x');
    chmodSync(path.join(bin, 'plain'), 0o644);
    expect(findExecutable('tool', '/', `/nonexistent:${bin}`)).toEqual({ path: path.join(bin, 'tool') });
    expect(findExecutable('./bin/tool', dir, '')).toEqual({ path: path.join(bin, 'tool') });
    expect(findExecutable('nope', '/', bin)).toEqual({ problem: '"nope" is not on PATH (ENOENT)' });
    expect(findExecutable('./bin/nope', dir, '')).toEqual({ problem: `${path.join(bin, 'nope')} does not exist (ENOENT)` });
    expect(findExecutable('plain', '/', bin)).toEqual({ problem: `${path.join(bin, 'plain')} is not executable (chmod +x?) (EACCES)` }); // no x bit: not even root
  });

  it('fingerprints a file, and a folder by its files in order', () => {
    const f = path.join(dir, 'ck.bin');
    writeFileSync(f, 'abc');
    expect(fingerprint(f)).toEqual({ bytes: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' });
    const d = path.join(dir, 'ck');
    mkdirSync(path.join(d, 'sub'), { recursive: true });
    writeFileSync(path.join(d, 'b'), 'bb');
    writeFileSync(path.join(d, 'sub', 'a'), 'a');
    const before = fingerprint(d);
    expect(before.bytes).toBe(3);
    writeFileSync(path.join(d, 'sub', 'a'), 'A');
    expect(fingerprint(d).sha256).not.toBe(before.sha256);
  });

  it('reads the last lines of a log', () => {
    const f = path.join(dir, 'log');
    writeFileSync(f, 'one\ntwo\n\nthree\n');
    expect(tailLines(f, 2)).toBe('two\nthree');
    expect(tailLines(path.join(dir, 'none'), 2)).toBe('');
  });
});
