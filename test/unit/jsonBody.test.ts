import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../src/api/jsonBody';

describe('parseJsonBody', () => {
  it('refuses a prototype-poisoning key however it is written, and parses everything else as JSON.parse does', () => {
    expect(() => parseJsonBody('{"rows":[{"a":1,"__proto__":{"x":1}}]}')).toThrow('rows[0].__proto__: keys named "__proto__"');
    // The same key spelt with \u escapes: no "__proto__" in the text, still found.
    expect(() => parseJsonBody('{"rows":[{"\\u005f_proto__":1}]}')).toThrow('rows[0].__proto__: keys named "__proto__"');
    expect(() => parseJsonBody('{"a":{"constructor":{"prototype":{}}}}')).toThrow('a.constructor.prototype: keys named');
    expect(() => parseJsonBody('{"a":{"\\u0063onstructor":{"prototype":{}}}}')).toThrow('a.constructor.prototype: keys named');
    for (const text of ['{"constructor":1}', '{"rows":[{"make":"Citro\\u00ebn","year":2020}]}', '{"rows":[{"proto":"__proto"}]}', '[1,2]']) {
      expect(parseJsonBody(text)).toEqual(JSON.parse(text));
    }
  });
});
