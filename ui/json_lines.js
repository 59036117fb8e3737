// Where things are in a JSON text: the line of every member and element, by path, so that
// dray's 400 messages ("steps[1].output …") can be shown next to the line they are about.
// Reads only valid JSON (the page checks with JSON.parse first).

/** Map from path ("", "steps", "steps[1]", "steps[1].output") to a 1-based line number. */
export function linesByPath(text) {
  const lines = new Map();
  let at = 0;
  let line = 1;

  function skipSpace() {
    while (at < text.length && ' \t\r\n'.includes(text[at])) {
      if (text[at] === '\n') line += 1;
      at += 1;
    }
  }
  function readString() {
    const start = at;
    at += 1;
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at += 1;
    return JSON.parse(text.slice(start, at));
  }
  function readValue(path) {
    skipSpace();
    if (!lines.has(path)) lines.set(path, line);
    const c = text[at];
    if (c === '{') {
      at += 1;
      for (;;) {
        skipSpace();
        if (text[at] === '}') { at += 1; return; }
        const memberLine = line;
        const key = readString();
        const memberPath = path ? `${path}.${key}` : key;
        lines.set(memberPath, memberLine);
        skipSpace();
        at += 1;  // ':'
        readValue(memberPath);
        lines.set(memberPath, memberLine);  // the key's line, not the value's
        skipSpace();
        if (text[at] === ',') at += 1;
      }
    } else if (c === '[') {
      at += 1;
      for (let index = 0; ; index += 1) {
        skipSpace();
        if (text[at] === ']') { at += 1; return; }
        readValue(`${path}[${index}]`);
        skipSpace();
        if (text[at] === ',') at += 1;
      }
    } else if (c === '"') {
      readString();
    } else {
      while (at < text.length && !',]} \t\r\n'.includes(text[at])) at += 1;
    }
  }
  readValue('');
  return lines;
}

/**
 * The line a dray validation message is about: its leading path ("job.callback.url",
 * "steps[0].output", "job.secrets[1].value"), or the closest enclosing path the text has;
 * null when the message names no place.
 */
export function lineOfMessage(text, message) {
  const match = /^(job|steps)((?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(message);
  if (!match) return null;
  let path = (match[1] === 'job' ? '' : 'steps') + match[2];
  if (path.startsWith('.')) path = path.slice(1);
  const lines = linesByPath(text);
  while (path) {
    if (lines.has(path)) return lines.get(path);
    path = path.replace(/(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])$/, '');
  }
  return lines.get('') ?? null;
}
