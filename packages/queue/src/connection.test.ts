import { afterAll, describe, expect, it } from '@jest/globals';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { resolveRunConfig } from '@ablate/config';
import { redactRedisUrl, redisOptionsFromUrl } from './connection';
import { queueEnv, RUN_QUEUE } from './names';
import { parseRunJobData, type RunJobData } from './run-job';
import { REDIS_URL, testPrefix } from '@ablate/test-utils';

describe('redisOptionsFromUrl', () => {
  it('parses host, port and db, and sets maxRetriesPerRequest: null for BullMQ', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379, db: 0, maxRetriesPerRequest: null });
    expect(redisOptionsFromUrl('redis://cache.internal/3')).toEqual({ host: 'cache.internal', port: 6379, db: 3, maxRetriesPerRequest: null });
    expect(redisOptionsFromUrl('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
  });

  it('takes user and password, percent-decoded', () => {
    expect(redisOptionsFromUrl('redis://alice:p%40ss%3Aw0rd@h:6380/2')).toEqual({
      host: 'h',
      port: 6380,
      db: 2,
      username: 'alice',
      password: 'p@ss:w0rd',
      maxRetriesPerRequest: null,
    });
    expect(redisOptionsFromUrl('redis://:secret@h')).toEqual({ host: 'h', port: 6379, db: 0, password: 'secret', maxRetriesPerRequest: null });
  });

  it('turns on TLS for rediss://', () => {
    expect(redisOptionsFromUrl('rediss://u:pw@redis.example.com:6380')).toEqual({
      host: 'redis.example.com',
      port: 6380,
      db: 0,
      username: 'u',
      password: 'pw',
      tls: { servername: 'redis.example.com' },
      maxRetriesPerRequest: null,
    });
    expect(redisOptionsFromUrl('redis://h').tls).toBeUndefined();
  });

  it('rejects other schemes and bad db numbers without printing the password', () => {
    expect(() => redisOptionsFromUrl('http://u:pw@h')).toThrow('REDIS_URL http://u:***@h: expected the scheme redis:// or rediss://, got http://');
    expect(() => redisOptionsFromUrl('redis://:pw@h/x')).toThrow('REDIS_URL redis://:***@h/x: expected a database number after the host (e.g. /0), got "/x"');
    expect(() => redisOptionsFromUrl('not a url')).toThrow(/^REDIS_URL not a url: expected a URL/);
  });
});

describe('redactRedisUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactRedisUrl('redis://alice:s3cret@h:1/2')).toBe('redis://alice:***@h:1/2');
    expect(redactRedisUrl('rediss://:s3cret@h')).toBe('rediss://:***@h');
    expect(redactRedisUrl('redis://alice@h')).toBe('redis://alice@h');
    expect(redactRedisUrl('redis://h:6379')).toBe('redis://h:6379');
  });
});

describe('queueEnv', () => {
  it('defaults and overrides', () => {
    expect(queueEnv({})).toEqual({ redisUrl: 'redis://127.0.0.1:6379', prefix: 'ablate' });
    expect(queueEnv({ REDIS_URL: 'redis://h:1', QUEUE_PREFIX: 'lab' })).toEqual({ redisUrl: 'redis://h:1', prefix: 'lab' });
  });

  it('REDIS_PASSWORD fills in a URL without a password, percent-encoded; a password in the URL wins', () => {
    const { redisUrl } = queueEnv({ REDIS_URL: 'rediss://redis.lab:6380/2', REDIS_PASSWORD: 'p@ss:w/rd%41' });
    expect(redisOptionsFromUrl(redisUrl)).toMatchObject({ host: 'redis.lab', port: 6380, db: 2, password: 'p@ss:w/rd%41', tls: { servername: 'redis.lab' } });
    expect(queueEnv({ REDIS_PASSWORD: 'x' }).redisUrl).toBe('redis://:x@127.0.0.1:6379');
    expect(queueEnv({ REDIS_URL: 'redis://:inurl@h', REDIS_PASSWORD: 'x' }).redisUrl).toBe('redis://:inurl@h');
    expect(queueEnv({ REDIS_URL: 'not a url', REDIS_PASSWORD: 'x' }).redisUrl).toBe('not a url');
  });
});

describe('with the real Redis', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('the options connect ioredis and run a BullMQ job end to end', async () => {
    const connection = redisOptionsFromUrl(REDIS_URL);
    const redis = new Redis(connection);
    closers.push(() => redis.quit());
    expect(await redis.ping()).toBe('PONG');

    const prefix = testPrefix();
    const queue = new Queue<RunJobData>(RUN_QUEUE, { connection, prefix });
    const events = new QueueEvents(RUN_QUEUE, { connection, prefix });
    const worker = new Worker<RunJobData, string>(RUN_QUEUE, async (job) => parseRunJobData(job.data).label, { connection, prefix, concurrency: 1 });
    closers.push(
      () => queue.close(),
      () => queue.obliterate({ force: true }),
      () => events.close(),
      () => worker.close(),
    );
    await events.waitUntilReady();
    const data: RunJobData = { runId: 'tiny-abc', sweepId: 's', config: resolveRunConfig({}), label: 'mu_init=zero', artifactDir: '/tmp/a' };
    const job = await queue.add(RUN_QUEUE, data, { jobId: data.runId });
    await expect(job.waitUntilFinished(events, 10_000)).resolves.toBe('mu_init=zero');
  });
});
