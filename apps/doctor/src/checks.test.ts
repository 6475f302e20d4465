import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REDIS_URL } from '@ablate/test-utils';
import { checkDataset, checkNode, checkRedis, checkSqlitePath, checkWebgpu } from './checks';

describe('doctor checks', () => {
  it('node: 20 passes, 18 fails with a fix', () => {
    expect(checkNode('20.20.2').ok).toBe(true);
    expect(checkNode('18.19.0')).toMatchObject({ ok: false, required: true, fix: expect.stringContaining('Node.js 20') });
  });

  it('redis: the real server answers', async () => {
    const c = await checkRedis(REDIS_URL);
    expect(c).toMatchObject({ ok: true });
    expect(c.detail).toMatch(/answers \(Redis \d+\.\d+/);
  });

  it('redis: a closed port fails fast with a fix, and a password is not printed', async () => {
    const c = await checkRedis('redis://user:s3cret@127.0.0.1:1', 1000);
    expect(c).toMatchObject({ ok: false, required: true });
    expect(c.fix).toMatch(/redis-server/);
    expect(c.detail).not.toContain('s3cret');
    expect(c.detail).toContain('redis://user:***@127.0.0.1:1');
  });

  it('redis: a malformed REDIS_URL is a failed check naming what is expected, not a crash', async () => {
    const c = await checkRedis('http://127.0.0.1:6379');
    expect(c).toMatchObject({ ok: false, required: true });
    expect(c.detail).toMatch(/redis:\/\/ or rediss:\/\//);
  });

  it('sqlite: a new file in a writable dir is fine; an unwritable parent is not', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'doctor-'));
    expect(checkSqlitePath(path.join(dir, 'sub', 'x.db'))).toMatchObject({ ok: true, detail: expect.stringContaining('will be created') });
    if (process.getuid?.() !== 0) {
      expect(checkSqlitePath('/proc/x/y.db').ok).toBe(false);
    }
  });

  it('dataset: a missing IDX dir fails and names the directory', () => {
    const c = checkDataset({ source: 'idx', dir: '/nonexistent/mnist' });
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('/nonexistent/mnist');
  });

  it("webgpu: lists Dawn's adapters, or says exactly why there is none", () => {
    expect(checkWebgpu({ ...process.env, DAWNNODE_BACKEND: 'null' })).toMatchObject({
      ok: true,
      required: false,
      detail: expect.stringMatching(/^Dawn adapters 0: Null backend \(null\); adapter 0: vendor/),
    });
    const real = checkWebgpu(process.env);
    expect(real.required).toBe(false);
    if (!real.ok) {
      expect(real.detail).toMatch(/^(no Vulkan loader|no Vulkan driver|Dawn rejected every Vulkan adapter|Dawn found no adapter)/);
      expect(real.fix).toBeDefined();
    }
    // No loader: an ICD cannot help without libvulkan.so.1 (this machine has none unless it has a GPU stack).
    if (/libvulkan\.so\.1/.test(real.detail)) expect(real.fix).toMatch(/libvulkan1/);
  });
});
