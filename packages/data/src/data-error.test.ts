import { describe, expect, it } from '@jest/globals';
import { DataError, errorMessage, hex32 } from './data-error';

describe('DataError', () => {
  it('prefixes the file, keeps file, fault and cause', () => {
    const cause = new Error('inner');
    const err = new DataError('/d/x.gz', 'bad gzip data', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'DataError', file: '/d/x.gz', fault: 'bad gzip data', message: '/d/x.gz: bad gzip data', cause });
    expect(new DataError(undefined, 'batchSize must be a positive integer').message).toBe('batchSize must be a positive integer');
  });

  it('formats magic numbers and messages of foreign errors', () => {
    expect(hex32(0x803)).toBe('0x00000803');
    expect(hex32(0x1f8b0800)).toBe('0x1f8b0800');
    expect(errorMessage({ message: 'from another realm' })).toBe('from another realm');
    expect(errorMessage(42)).toBe('42');
  });
});
