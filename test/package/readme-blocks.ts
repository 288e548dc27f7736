/** The TypeScript code blocks of a Markdown text, in order: the README's examples. */
export function readmeCodeBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const lines = markdown.split('\n');
  let start: number | undefined;
  let code: string[] = [];
  lines.forEach((text, index) => {
    if (start === undefined && /^```ts\s*$/.test(text)) {
      start = index + 1;
      code = [];
    } else if (start !== undefined && /^```\s*$/.test(text)) {
      blocks.push({ line: start, code: `${code.join('\n')}\nexport {};\n` });
      start = undefined;
    } else if (start !== undefined) code.push(text);
  });
  return blocks;
}
