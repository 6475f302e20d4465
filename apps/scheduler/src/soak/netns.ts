/**
 * The soak's hosts: Linux network namespaces joined by veth pairs, as in multihost.test.ts. Redis and the recorder live
 * in one namespace; each worker host is a namespace with one point-to-point link to it (10.217.<h>.1 ↔ .2), which the
 * soak cuts by setting the host's end down. One more link joins the soak's own (root) namespace to the Redis one, so the
 * soak can sample the stream and check the consumer group. Needs root and iproute2's `ip`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface HostLink {
  ns: string;
  here: string;
  there: string;
  redisIp: string;
  workerIp: string;
}

export interface SoakNet {
  redisNs: string;
  hosts: HostLink[];
  /** The Redis namespace's address on the link to the root namespace. */
  ctlRedisIp: string;
}

export function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Creates the namespaces and links; on failure removes what it made. */
export function createNet(hosts: number): SoakNet {
  const id = randomBytes(2).toString('hex');
  const used = spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout ?? '';
  let k = 0;
  for (let tries = 0; tries < 200; tries++) {
    k = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.216.${k}.`)) break;
  }
  const net: SoakNet = {
    redisNs: `soak-r-${id}`,
    hosts: Array.from({ length: hosts }, (_, h) => ({
      ns: `soak-h${h}-${id}`,
      here: `sr${h}${id}`,
      there: `sw${h}${id}`,
      redisIp: `10.217.${h}.1`,
      workerIp: `10.217.${h}.2`,
    })),
    ctlRedisIp: `10.216.${k}.1`,
  };
  const ctlHere = `sc${id}`;
  try {
    for (const ns of [net.redisNs, ...net.hosts.map((h) => h.ns)]) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    for (const l of net.hosts) {
      ip('link', 'add', l.here, 'netns', net.redisNs, 'type', 'veth', 'peer', 'name', l.there, 'netns', l.ns);
      ip('-n', net.redisNs, 'addr', 'add', `${l.redisIp}/30`, 'dev', l.here);
      ip('-n', l.ns, 'addr', 'add', `${l.workerIp}/30`, 'dev', l.there);
      ip('-n', net.redisNs, 'link', 'set', l.here, 'up');
      ip('-n', l.ns, 'link', 'set', l.there, 'up');
    }
    ip('link', 'add', ctlHere, 'type', 'veth', 'peer', 'name', `sp${id}`, 'netns', net.redisNs);
    ip('addr', 'add', `10.216.${k}.2/30`, 'dev', ctlHere);
    ip('-n', net.redisNs, 'addr', 'add', `${net.ctlRedisIp}/30`, 'dev', `sp${id}`);
    ip('link', 'set', ctlHere, 'up');
    ip('-n', net.redisNs, 'link', 'set', `sp${id}`, 'up');
  } catch (err) {
    destroyNet(net);
    throw err;
  }
  return net;
}

/** Deletes the namespaces (and so every link: a veth pair goes when either end's namespace does). */
export function destroyNet(net: SoakNet): void {
  for (const ns of [...net.hosts.map((h) => h.ns), net.redisNs]) spawnSync('ip', ['netns', 'del', ns]);
}

/** Cuts (down) or restores (up) a host's only link. */
export function setLink(net: SoakNet, host: number, up: boolean): void {
  const l = net.hosts[host];
  if (l) ip('-n', l.ns, 'link', 'set', l.there, up ? 'up' : 'down');
}

/** Why the soak cannot run here (not root, no `ip netns`, no redis-server), or null. */
export function prerequisiteProblem(): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'pnpm soak needs root: it puts workers in network namespaces (ip netns) and cuts their links';
  if (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).status !== 0) return 'pnpm soak needs iproute2 with network namespaces (`ip netns list` failed)';
  if (spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status !== 0)
    return 'pnpm soak needs redis-server on PATH (it runs a Redis of its own, with AOF)';
  return null;
}
