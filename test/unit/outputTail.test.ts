import { describe, expect, it } from 'vitest';
import { outputTail } from '../../src/infra/outputTail';

describe('outputTail', () => {
  it('keeps the last non-empty lines across chunks and returns the ones it added', () => {
    const tail = outputTail(3);
    expect(tail.add('a\n\nb\n')).toEqual(['a', 'b']);
    expect(tail.add('c\nd')).toEqual(['c', 'd']);
    expect(tail.text()).toBe('b\nc\nd');
  });
});
