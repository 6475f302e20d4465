import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DataError } from './data-error';
import { findMnistPackage } from './embedded-mnist';
import { parsePixelJson } from './pixel-json';

const parse = (text: string): number[] => Array.from(parsePixelJson(Buffer.from(text), 'x.json'));
const viaJson = (text: string): number[] => (JSON.parse(text) as { data: number[] }).data.map((v) => Math.round(v * 255));

describe('parsePixelJson', () => {
  it('gives round(v·255) exactly as JSON.parse would, for every value of a real digit file', () => {
    const file = findMnistPackage().digitFiles[5] ?? '';
    const text = readFileSync(file, 'utf8');
    const ours = parsePixelJson(readFileSync(file), file);
    const ref = viaJson(text);
    expect(ours.length).toBe(ref.length);
    expect(Buffer.from(ours).equals(Buffer.from(ref))).toBe(true);
  });

  it('accepts whitespace, integers and long fractions; falls back to JSON.parse for exponents', () => {
    const text = ' {\n "data" : [ 0, 1,0.5 ,0.0019607843137254, 0.998 ]\n} ';
    expect(parse(text)).toEqual(viaJson(text));
    expect(parse(text)).toEqual([0, 255, 128, 0, 254]);
    expect(parse('{"data":[1e-3, 5E-1, 0.25]}')).toEqual([0, 128, 64]);
    expect(parse('{"other": 1, "data":[0.2]}')).toEqual([51]);
  });

  it('rejects out-of-range values, non-numbers and broken JSON with a DataError naming the file', () => {
    expect(() => parse('{"data":[0.5, 1.5]}')).toThrow('x.json: value 1.5 is not a pixel in [0, 1] at byte 14');
    expect(() => parse('{"data":[0.5, -0.1]}')).toThrow('x.json: value -0.1 is not a pixel in [0, 1]');
    expect(() => parse('{"data":[0.5, "a"]}')).toThrow('x.json: element 1 is "a", not a number');
    expect(() => parse('{"data":[0.5, 0.2')).toThrow(DataError);
    expect(() => parse('{"data":[0.5, 0.2')).toThrow(/^x\.json: not valid JSON \(/);
    expect(() => parse('[1, 2]')).toThrow('x.json: no "data" array');
  });
});
