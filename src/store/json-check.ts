/**
 * A strict JSON syntax check that says where the text stops being JSON (JSON.parse in Node 20
 * often does not), so a bad `.json` manifest gets a line and column like any YAML error.
 */

/** The offset and reason of the first JSON syntax error, or undefined for valid JSON. */
export function jsonSyntaxError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const fail = (message: string): never => {
    throw Object.assign(new Error(message), { offset: i });
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r\uFEFF'.includes(text[i] ?? '')) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('unexpected character');
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = text[i + 1] ?? '';
        if ('"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail('invalid escape in a string');
      } else if (c !== undefined && c < ' ') fail('control character in a string');
      else i++;
    }
    fail('unterminated string');
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail('invalid number');
    i += m?.[0].length ?? 0;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before "}"' : 'expected a "quoted" key');
        string();
        ws();
        if (text[i] !== ':') fail('expected ":" after the key');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']') fail('trailing comma before "]"');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') { string(); return; }
    if (c === 't') { literal('true'); return; }
    if (c === 'f') { literal('false'); return; }
    if (c === 'n') { literal('null'); return; }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) { number(); return; }
    fail(c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail('unexpected text after the JSON value');
    return undefined;
  } catch (err) {
    return { offset: (err as { offset?: number }).offset ?? i, message: err instanceof Error ? err.message : 'invalid JSON' };
  }
}
