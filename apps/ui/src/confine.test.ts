import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { confinedFile } from './confine';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('confinedFile', () => {
  it('accepts files inside the root only, after .. and symlinks', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ablate-ui-confine-'));
    const root = path.join(dir, 'artifacts');
    mkdirSync(path.join(root, 'runs', 'r1'), { recursive: true });
    writeFileSync(path.join(root, 'runs', 'r1', 'a.png'), 'x');
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'runs', 'r1', 'link.png'));
    symlinkSync(dir, path.join(root, 'up'));
    const inside = path.join(root, 'runs', 'r1', 'a.png');
    expect(confinedFile(root, inside)).toBe(inside);
    expect(confinedFile(root, 'runs/r1/a.png')).toBe(inside);
    expect(confinedFile(root, path.join(root, 'runs', 'r1', '..', 'r1', 'a.png'))).toBe(inside);
    expect(confinedFile(root, path.join(root, '..', 'secret.txt'))).toBeNull();
    expect(confinedFile(root, '../secret.txt')).toBeNull();
    expect(confinedFile(root, path.join(root, 'runs', 'r1', 'link.png'))).toBeNull(); // a link out of the root
    expect(confinedFile(root, path.join(root, 'up', 'secret.txt'))).toBeNull();
    expect(confinedFile(root, '/etc/passwd')).toBeNull();
    expect(confinedFile(root, path.join(root, 'runs'))).toBeNull(); // a folder
    expect(confinedFile(root, path.join(root, 'nope.png'))).toBeNull();
    expect(confinedFile(path.join(dir, 'no-root'), inside)).toBeNull();
  });
});
