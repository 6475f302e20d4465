import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// No Docker engine here: these check what the compose file and Dockerfiles promise, and that every path they name exists.
const REPO = path.resolve(__dirname, '..', '..', '..');
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  profiles?: string[];
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
}
const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const { services } = compose;

describe('docker-compose.yml', () => {
  it('redis has a password, AOF persistence and noeviction', () => {
    const cmd = services.redis?.command?.join(' ') ?? '';
    expect(cmd).toMatch(/--requirepass \$\{REDIS_PASSWORD:\?/);
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    expect(services.recorder?.environment?.REDIS_URL).toContain('${REDIS_PASSWORD');
  });

  it('the recorder, both workers and the tools share one artifact folder at /artifacts; the recorder has the SQLite volume', () => {
    for (const name of ['recorder', 'worker-cpu', 'worker-gpu', 'tools']) {
      expect({ name, mounts: services[name]?.volumes?.filter((v) => v.endsWith(':/artifacts')) }).toEqual({ name, mounts: ['${ARTIFACT_HOST_DIR:-./artifacts}:/artifacts'] });
      expect(services[name]?.environment?.ARTIFACT_DIR).toBe('/artifacts');
    }
    expect(services.recorder?.volumes).toContain('sqlite:/data');
    expect(services.recorder?.environment?.SWEEP_DB).toBe('/data/ablate.db');
  });

  it('worker-gpu: CUDA 11.2 / cuDNN 8.1 image with a mirror build argument, a GPU reservation and a CUDA cache volume', () => {
    const gpu = services['worker-gpu'];
    expect(gpu?.build?.args).toEqual({ TFJS_NODE_CDN_STORAGE: '${TFJS_NODE_CDN_STORAGE:-}', TFJS_NODE_BASE_URI: '${TFJS_NODE_BASE_URI:-}' });
    expect(gpu?.deploy?.resources?.reservations?.devices).toEqual([{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }]);
    expect(gpu?.environment?.CUDA_CACHE_PATH).toBe('/cuda-cache');
    expect(gpu?.volumes).toContain('cuda-cache:/cuda-cache');
    const dockerfile = readFileSync(path.join(REPO, gpu?.build?.dockerfile ?? ''), 'utf8');
    expect(dockerfile).toMatch(/^FROM nvidia\/cuda:11\.2\.\d+-cudnn8-runtime-/m);
    expect(dockerfile).toMatch(/^ARG TFJS_NODE_CDN_STORAGE=/m);
    expect(dockerfile).toMatch(/^ARG TFJS_NODE_BASE_URI=/m);
    expect(dockerfile).toContain('pnpm rebuild @tensorflow/tfjs-node-gpu');
    expect(dockerfile).toMatch(/CUDA_CACHE_PATH=\/cuda-cache/);
  });

  it('every Dockerfile and every script a service runs exists (after the build)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) expect({ name, dockerfile: existsSync(path.join(REPO, s.build.dockerfile)) }).toEqual({ name, dockerfile: true });
      const script = s.command?.find((c) => c.endsWith('.js'));
      if (script) expect({ name, script, exists: existsSync(path.join(REPO, script)) }).toEqual({ name, script, exists: true });
    }
  });
});
