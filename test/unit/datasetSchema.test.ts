// parseSchemaFile reads a model's schema file (data.schemaUri), JSON or YAML; its errors name the line
// (text that does not parse) or the field (a file that parses to the wrong shape).
import { describe, expect, it } from 'vitest';
import { parseSchemaFile, SchemaFileError } from '../../src/schemas/datasetSchema';

function failure(text: string): SchemaFileError {
  try {
    parseSchemaFile(text);
  } catch (err) {
    expect(err).toBeInstanceOf(SchemaFileError);
    expect((err as Error).name).toBe('SchemaFileError');
    return err as SchemaFileError;
  }
  throw new Error('expected parseSchemaFile to fail');
}

const EXPECTED = {
  columns: [
    { name: 'price', type: 'numeric', nullable: true, min: 0, max: 10_000_000 },
    { name: 'fuel', type: 'categorical', nullable: true, values: ['diesel', 'petrol', 'electric'] },
    { name: 'km', type: 'numeric', nullable: false, min: undefined, max: undefined },
    { name: 'colour', type: 'categorical', nullable: true, values: undefined },
  ],
};

describe('parseSchemaFile: valid files', () => {
  it('reads JSON', () => {
    const json = JSON.stringify({
      columns: {
        price: { type: 'numeric', min: 0, max: 10_000_000 },
        fuel: { type: 'categorical', values: ['diesel', 'petrol', 'electric'] },
        km: { type: 'numeric', nullable: false },
        colour: { type: 'categorical' },
      },
    });
    expect(parseSchemaFile(json)).toEqual(EXPECTED);
  });

  it('reads the same schema written as YAML, block and flow styles, with comments', () => {
    const yaml = [
      '# the cars model',
      'columns:',
      '  price: { type: numeric, min: 0, max: 10000000 }',
      '  fuel:',
      '    type: categorical',
      '    values: [diesel, petrol, electric]',
      '  km: {type: numeric, nullable: false}',
      '  colour:',
      '    type: categorical',
      '',
    ].join('\n');
    expect(parseSchemaFile(yaml)).toEqual(EXPECTED);
  });

  it('keeps category codes quoted in YAML as text, leading zeros included', () => {
    expect(parseSchemaFile("columns:\n  zip: {type: categorical, values: ['02134', '10001']}\n").columns[0].values).toEqual(['02134', '10001']);
  });

  it('keeps the columns in the order of the file', () => {
    const names = parseSchemaFile('columns:\n  z: {type: numeric}\n  a: {type: numeric}\n  m: {type: categorical}\n').columns.map((c) => c.name);
    expect(names).toEqual(['z', 'a', 'm']);
  });
});

describe('parseSchemaFile: text that does not parse', () => {
  it.each([
    ['an unclosed YAML flow mapping', 'columns:\n  price: {type: numeric\n  fuel: x\n', 3],
    ['a YAML key indented wrongly', 'columns:\n  price:\n    type: numeric\n   min: 3\n', 4],
    ['JSON with a doubled comma', '{"columns": {"price": {"type": "numeric",, }}}', 1],
    ['JSON with a stray comma on line 5', '{\n  "columns": {\n    "price": {"type": "numeric"}\n  ,\n}', 5],
    ['a key given twice', 'columns:\n  price: {type: numeric}\n  price: {type: categorical}\n', 3],
  ])('%s: says so, with the line', (_, text, line) => {
    expect(failure(text).message).toBe(`the schema file does not parse as JSON or YAML (line ${line})`);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]'].join('\n');
    expect(failure(bomb).message).toMatch(/^the schema file does not parse as JSON or YAML/);
  });
});

describe('parseSchemaFile: files of the wrong shape name the field', () => {
  it.each([
    ['a number given as text', 'columns:\n  price: {type: numeric, min: "0"}\n', 'columns.price.min: Invalid input: expected number, received string'],
    ['nullable as text', 'columns:\n  price: {type: numeric, nullable: "no"}\n', 'columns.price.nullable: Invalid input: expected boolean, received string'],
    ['numbers as categories', 'columns:\n  zip: {type: categorical, values: [2134, "x"]}\n', 'columns.zip.values.0: Invalid input: expected string, received number'],
    ['an unknown type', 'columns:\n  price: {type: number}\n', 'columns.price.type: '],
    ['an unknown key in a column', 'columns:\n  price: {type: numeric, colour: red}\n', 'columns.price: Unrecognized key: "colour"'],
    ['an unknown top-level key', 'columns:\n  p: {type: numeric}\nextra: 1\n', '(input): Unrecognized key: "extra"'],
    ['no columns', 'columns: {}\n', 'columns: must name at least one column'],
    ['an empty list of categories', 'columns:\n  fuel: {type: categorical, values: []}\n', 'columns.fuel.values: Too small'],
    ['a range on a categorical column', 'columns:\n  fuel: {type: categorical, min: 0}\n', 'columns.fuel: Unrecognized key: "min"'],
    ['a list instead of a mapping', '- a\n- b\n', '(input): Invalid input: expected object, received array'],
    ['an empty file', '', '(input): Invalid input: expected object'],
  ])('%s', (_, text, message) => {
    const err = failure(text);
    expect(err.message.startsWith('the schema file is invalid: ')).toBe(true);
    expect(err.message).toContain(message);
  });

  it('min above max is refused, naming the column and the max', () => {
    expect(failure('columns:\n  price: {type: numeric, min: 10, max: 1}\n').message).toBe('the schema file is invalid: columns.price.min: must not exceed max (1)');
  });

  it('min equal to max is a valid (one-value) range', () => {
    expect(parseSchemaFile('columns:\n  price: {type: numeric, min: 5, max: 5}\n').columns[0]).toMatchObject({ min: 5, max: 5 });
  });
});
