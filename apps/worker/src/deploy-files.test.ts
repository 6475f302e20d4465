import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// These check what the compose file and Dockerfiles promise, and that every path they name exists; `bash docker/smoke.sh`
// runs the CPU stack for real where a Docker engine is (not in CI).
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
  it('redis has ACL users with passwords, AOF persistence and noeviction; each service uses its own user', () => {
    const cmd = services.redis?.command?.join(' ') ?? '';
    expect(cmd).toMatch(/^sh \/etc\/ablate-redis\/start\.sh /); // docker/redis/start.sh loads docker/redis/users.acl
    expect(services.redis?.volumes).toContain('./docker/redis:/etc/ablate-redis:ro');
    expect(Object.keys(services.redis?.environment ?? {}).sort()).toEqual([
      'QUEUE_PREFIX',
      'REDIS_PASSWORD',
      'REDIS_RECORDER_PASSWORD',
      'REDIS_WORKER_PASSWORD',
    ]);
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    // The apps add REDIS_PASSWORD to a REDIS_URL without one (queueEnv); a nested ${...${...}} default is not portable
    // (docker-compose v1 passes it through mangled).
    expect(services.tools?.environment).toMatchObject({ REDIS_URL: '${REDIS_URL:-redis://redis:6379}', REDIS_PASSWORD: '${REDIS_PASSWORD:-}' });
    expect(services.recorder?.environment).toMatchObject({
      REDIS_URL: '${RECORDER_REDIS_URL:-redis://recorder@redis:6379}',
      REDIS_PASSWORD: '${REDIS_RECORDER_PASSWORD:-}',
    });
    for (const name of ['worker-cpu', 'worker-gpu']) {
      expect({ name, env: services[name]?.environment }).toMatchObject({
        name,
        env: { REDIS_URL: '${WORKER_REDIS_URL:-redis://worker@redis:6379}', REDIS_PASSWORD: '${REDIS_WORKER_PASSWORD:-}' },
      });
    }
    expect(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')).not.toMatch(/\$\{[^}]*\$\{/);
    // The users the file defines (apps/scheduler/src/redis-acl.test.ts loads it into a real Redis).
    const acl = readFileSync(path.join(REPO, 'docker/redis/users.acl'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('user '));
    expect(acl.map((l) => l.split(' ')[1])).toEqual(['default', 'worker', 'recorder']);
    expect({ file: 'docker/redis/start.sh', ...spawnSync('sh', ['-n', path.join(REPO, 'docker/redis/start.sh')], { encoding: 'utf8' }) }).toMatchObject({
      status: 0,
      stderr: '',
    });
  });

  it('the CPU image takes its base from NODE_IMAGE and trusts the CAs in docker/extra-ca', () => {
    expect(services.recorder?.build?.args).toEqual({ NODE_IMAGE: '${NODE_IMAGE:-node:20-bookworm-slim}' });
    expect(services.redis?.image).toBe('${REDIS_IMAGE:-redis:7.0}');
    for (const file of ['docker/Dockerfile', 'docker/Dockerfile.worker-gpu', 'docker/Dockerfile.worker-webgpu']) {
      const dockerfile = readFileSync(path.join(REPO, file), 'utf8');
      expect({
        file,
        copiesCa: dockerfile.includes('COPY docker/extra-ca/ /usr/local/share/ca-certificates/'),
        updates: dockerfile.includes('update-ca-certificates'),
      }).toEqual({ file, copiesCa: true, updates: true });
    }
    expect(readFileSync(path.join(REPO, 'docker/Dockerfile'), 'utf8')).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim\nFROM \$\{NODE_IMAGE\}$/m);
    expect(readFileSync(path.join(REPO, '.dockerignore'), 'utf8')).not.toMatch(/^docker/m);
  });

  it('docker/local-bases.sh, docker/smoke.sh and scripts/install-tfjs-node.sh are executable bash that parses', () => {
    for (const file of ['docker/local-bases.sh', 'docker/smoke.sh', 'scripts/install-tfjs-node.sh', 'scripts/gpu-bundle.sh', 'scripts/gpu-check.sh']) {
      accessSync(path.join(REPO, file), constants.X_OK);
      expect({ file, ...spawnSync('bash', ['-n', path.join(REPO, file)], { encoding: 'utf8' }) }).toMatchObject({ file, status: 0, stderr: '' });
    }
  });

  it('the recorder, both workers and the tools share one artifact folder at /artifacts; the recorder has the SQLite volume', () => {
    for (const name of ['recorder', 'worker-cpu', 'worker-gpu', 'worker-webgpu', 'tools']) {
      expect({ name, mounts: services[name]?.volumes?.filter((v) => v.endsWith(':/artifacts')) }).toEqual({
        name,
        mounts: ['${ARTIFACT_HOST_DIR:-./artifacts}:/artifacts'],
      });
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
    // `pnpm rebuild` skips the install script of a package missing from onlyBuiltDependencies (exit 0, nothing fetched).
    expect(dockerfile).toContain('bash scripts/install-tfjs-node.sh gpu');
    expect(dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#') && l.includes('pnpm rebuild'))).toEqual([]);
    expect(dockerfile).toMatch(/CUDA_CACHE_PATH=\/cuda-cache/);
  });

  it('worker-webgpu: Node.js + the Vulkan loader, the graphics capability, its own profile, the webgpu backend', () => {
    const w = services['worker-webgpu'];
    expect(w?.profiles).toEqual(['webgpu']);
    expect(w?.command).toEqual(['node', 'apps/worker/dist/main.js', '--gpus', '${WORKER_GPUS:-0}', '--backend', 'webgpu']);
    // Without the graphics capability the toolkit mounts no Vulkan driver: Dawn would find no adapter.
    expect(w?.environment?.NVIDIA_DRIVER_CAPABILITIES).toBe('compute,utility,graphics');
    expect(w?.deploy?.resources?.reservations?.devices).toEqual([{ driver: 'nvidia', count: 'all', capabilities: ['gpu', 'compute', 'utility', 'graphics'] }]);
    expect(w?.build?.args).toEqual({ NODE_IMAGE: '${NODE_IMAGE:-node:20-bookworm-slim}' });
    const dockerfile = readFileSync(path.join(REPO, w?.build?.dockerfile ?? ''), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim\nFROM \$\{NODE_IMAGE\}$/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\n[^\n]*libvulkan1/);
    expect(dockerfile).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
    expect(dockerfile).toMatch(/TFJS_BACKEND=webgpu/);
    // No CUDA base image and no libtensorflow: the point of this worker.
    expect(dockerfile).not.toMatch(/^FROM nvidia\/cuda/m);
    expect(dockerfile).not.toContain('install-tfjs-node.sh');
    expect(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')).toMatch(/--profile webgpu up -d worker-webgpu/);
  });

  it('every Dockerfile and every script a service runs exists (after the build)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) expect({ name, dockerfile: existsSync(path.join(REPO, s.build.dockerfile)) }).toEqual({ name, dockerfile: true });
      const script = s.command?.find((c) => c.endsWith('.js'));
      if (script) expect({ name, script, exists: existsSync(path.join(REPO, script)) }).toEqual({ name, script, exists: true });
    }
  });
});
