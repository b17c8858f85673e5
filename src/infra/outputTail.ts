/**
 * Keeps the last non-empty lines a child process printed, so a failed start can show why.
 * `add` returns the lines it kept, for callers that also forward them to a log.
 */
export function outputTail(max: number) {
  const lines: string[] = [];
  return {
    add(text: string): string[] {
      const added = text.split('\n').filter((line) => line.trim());
      lines.push(...added);
      lines.splice(0, Math.max(0, lines.length - max));
      return added;
    },
    text: () => lines.join('\n'),
  };
}
