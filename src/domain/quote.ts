/**
 * Values from users' files and payloads end up in failure messages, the status query and logs, which
 * many more people can read than the file. Quote them short and escaped, never whole: a file that
 * was not meant to be ingested must not be readable through its error message.
 */
const MAX_CHARS = 40;
const MAX_ITEMS = 10;

/** The value cut to `max` characters, with control and non-printable characters escaped. */
export function sanitize(value: string, max = MAX_CHARS): string {
  const cut = [...value].slice(0, max).join('');
  const escaped = JSON.stringify(cut).slice(1, -1).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut.length < value.length ? `${escaped}…` : escaped;
}

/** `"value"`, sanitised. */
export function quote(value: string, max = MAX_CHARS): string {
  return `"${sanitize(value, max)}"`;
}

/** A short list of quoted values: at most `maxItems`, then how many more. */
export function quoteList(values: readonly string[], maxItems = MAX_ITEMS): string {
  const shown = values.slice(0, maxItems).map((v) => quote(v)).join(', ');
  return values.length > maxItems ? `${shown} and ${values.length - maxItems} more` : shown;
}

/** A short unquoted list of names (e.g. a file's columns): at most `maxItems`, each sanitised. */
export function shortList(values: readonly string[], maxItems = 30): string {
  const shown = values.slice(0, maxItems).map((v) => sanitize(v)).join(', ');
  return values.length > maxItems ? `${shown} and ${values.length - maxItems} more` : shown;
}
