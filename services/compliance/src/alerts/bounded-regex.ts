/**
 * Regular expressions for alert rules, run by a Thompson automaton rather than a backtracking
 * engine, so matching time is linear in the text (text length × pattern states) whatever the
 * pattern: `(a+)+$`, `(a|aa)*b` and the like cannot hang ingest. Supported: literals, `.`,
 * classes `[a-z0-9]` / `[^…]`, escapes `\d \w \s \D \W \S \. \\` (and other escaped
 * punctuation), `\uXXXX`, groups `( )` and `(?: )`, alternation `|`, quantifiers `* + ?
 * {m} {m,} {m,n}` (m, n ≤ 100; a trailing lazy `?` is accepted, the match is leftmost-longest
 * either way), and the assertions `^ $ \b \B`. Refused with a reason: back-references,
 * look-around, named groups, anything else unknown, patterns longer than 200 characters and
 * patterns that expand to more than 2,000 states.
 */

export const REGEX_MAX_LENGTH = 200;
const MAX_STATES = 2_000;
const MAX_REPEAT = 100;

export class RegexRejected extends Error {}

type Node =
  | { t: 'char'; test: (cp: number) => boolean }
  | { t: 'assert'; kind: '^' | '$' | 'b' | 'B' }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'repeat'; node: Node; min: number; max: number | null };

const cp = (s: string) => s.codePointAt(0) as number;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWord = (c: number) =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** Lower case of a code point; ASCII and CJK ideographs (no case) without a string. */
const foldCache = new Map<number, number>();
const foldCase = (c: number): number => {
  if (c < 65) return c;
  if (c <= 90) return c + 32;
  if (c < 128 || (c >= 0x4e00 && c <= 0x9fff)) return c;
  let folded = foldCache.get(c);
  if (folded === undefined) {
    folded = cp(String.fromCodePoint(c).toLowerCase());
    if (foldCache.size < 65_536) foldCache.set(c, folded);
  }
  return folded;
};
/** JavaScript's `\s`: ASCII white space without a regular expression, the rest through one. */
const spaceCache = new Map<number, boolean>();
const isSpace = (c: number): boolean => {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  let space = spaceCache.get(c);
  if (space === undefined) {
    space = /\s/u.test(String.fromCodePoint(c));
    if (spaceCache.size < 65_536) spaceCache.set(c, space);
  }
  return space;
};

class Parser {
  private i = 0;
  private readonly chars: string[];
  constructor(
    pattern: string,
    private readonly fold: boolean,
  ) {
    this.chars = [...pattern];
  }

  parse(): Node {
    const node = this.alt();
    if (this.i < this.chars.length) throw new RegexRejected(`unexpected ${this.chars[this.i]}`);
    return node;
  }

  private peek = () => this.chars[this.i];
  private eat = () => this.chars[this.i++];

  private alt(): Node {
    const items = [this.cat()];
    while (this.peek() === '|') {
      this.eat();
      items.push(this.cat());
    }
    return items.length === 1 ? items[0] : { t: 'alt', items };
  }

  private cat(): Node {
    const items: Node[] = [];
    while (this.i < this.chars.length && this.peek() !== '|' && this.peek() !== ')') {
      items.push(this.repeat());
    }
    return { t: 'cat', items };
  }

  private repeat(): Node {
    let node = this.atom();
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number | null;
      if (c === '*') [min, max] = [0, null];
      else if (c === '+') [min, max] = [1, null];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const rest = this.chars.slice(this.i).join('');
        const m = /^\{(\d{1,6})(,(\d{0,6}))?\}/.exec(rest);
        if (!m) throw new RegexRejected('a { must start a quantifier {m}, {m,} or {m,n}');
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? null : Number(m[3]);
        if (min > MAX_REPEAT || (max !== null && (max > MAX_REPEAT || max < min)))
          throw new RegexRejected(`quantifiers count at most ${MAX_REPEAT}, with m ≤ n`);
        this.i += [...m[0]].length - 1;
      } else return node;
      this.eat();
      if (node.t === 'assert') throw new RegexRejected('an assertion cannot be repeated');
      if (this.peek() === '?') this.eat(); // lazy: same language, leftmost-longest anyway
      node = { t: 'repeat', node, min, max };
    }
  }

  private atom(): Node {
    const c = this.eat();
    switch (c) {
      case '(': {
        if (this.peek() === '?') {
          this.eat();
          if (this.eat() !== ':')
            throw new RegexRejected('look-around and named groups are not supported');
        }
        const node = this.alt();
        if (this.eat() !== ')') throw new RegexRejected('a group is not closed');
        return node;
      }
      case '[':
        return this.klass();
      case '.':
        return { t: 'char', test: (x) => x !== 10 && x !== 13 };
      case '^':
        return { t: 'assert', kind: '^' };
      case '$':
        return { t: 'assert', kind: '$' };
      case '\\':
        return this.escape(false);
      case '*':
      case '+':
      case '?':
      case '{':
        throw new RegexRejected(`nothing to repeat before ${c}`);
      case ')':
      case ']':
      case '}':
        throw new RegexRejected(`unbalanced ${c}`);
      default:
        return this.literal(cp(c));
    }
  }

  private literal(code: number): Node {
    if (!this.fold) return { t: 'char', test: (x) => x === code };
    const lower = foldCase(code);
    return { t: 'char', test: (x) => x === code || foldCase(x) === lower };
  }

  private escape(inClass: boolean): Node & { t: 'char' | 'assert' } {
    const c = this.eat();
    if (c === undefined) throw new RegexRejected('a pattern cannot end with \\');
    switch (c) {
      case 'd':
        return { t: 'char', test: isDigit };
      case 'D':
        return { t: 'char', test: (x) => !isDigit(x) };
      case 'w':
        return { t: 'char', test: isWord };
      case 'W':
        return { t: 'char', test: (x) => !isWord(x) };
      case 's':
        return { t: 'char', test: isSpace };
      case 'S':
        return { t: 'char', test: (x) => !isSpace(x) };
      case 'n':
        return { t: 'char', test: (x) => x === 10 };
      case 't':
        return { t: 'char', test: (x) => x === 9 };
      case 'b':
      case 'B':
        if (inClass) throw new RegexRejected('\\b is not supported inside a class');
        return { t: 'assert', kind: c };
      case 'u': {
        const hex = this.chars.slice(this.i, this.i + 4).join('');
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new RegexRejected('\\u needs four hex digits');
        this.i += 4;
        const code = parseInt(hex, 16);
        return this.literal(code) as Node & { t: 'char' };
      }
      default:
        if (/[0-9]/.test(c)) throw new RegexRejected('back-references are not supported');
        if (/[A-Za-z]/.test(c)) throw new RegexRejected(`\\${c} is not supported`);
        return this.literal(cp(c)) as Node & { t: 'char' };
    }
  }

  /** The code point of an escape inside a class (after the backslash). */
  private classEscape(): number {
    const c = this.eat();
    if (c === undefined) throw new RegexRejected('a class is not closed');
    if (c === 'n') return 10;
    if (c === 't') return 9;
    if (c === 'u') {
      const hex = this.chars.slice(this.i, this.i + 4).join('');
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new RegexRejected('\\u needs four hex digits');
      this.i += 4;
      return parseInt(hex, 16);
    }
    if (/[A-Za-z0-9]/.test(c)) throw new RegexRejected(`\\${c} is not supported in a class`);
    return cp(c);
  }

  private klass(): Node {
    const negate = this.peek() === '^';
    if (negate) this.eat();
    const tests: ((x: number) => boolean)[] = [];
    let first = true;
    while (this.peek() !== ']' || first) {
      first = false;
      const c = this.eat();
      if (c === undefined) throw new RegexRejected('a class is not closed');
      let from: number;
      if (c === '\\') {
        const e = this.peek();
        if (e !== undefined && /[dDwWsS]/.test(e)) {
          tests.push((this.escape(true) as { test: (x: number) => boolean }).test);
          continue;
        }
        from = this.classEscape();
      } else from = cp(c);
      if (this.peek() === '-' && this.chars[this.i + 1] !== ']' && this.chars[this.i + 1]) {
        this.eat();
        const toChar = this.eat();
        const to = toChar === '\\' ? this.classEscape() : cp(toChar);
        if (to < from) throw new RegexRejected('a class range runs backwards');
        tests.push((x) => x >= from && x <= to);
      } else tests.push((x) => x === from);
    }
    this.eat();
    const fold = this.fold;
    const any = (x: number) => tests.some((t) => t(x));
    const matches = fold
      ? (x: number) => {
          const s = String.fromCodePoint(x);
          return any(x) || any(cp(s.toLowerCase())) || any(cp(s.toUpperCase()));
        }
      : any;
    return { t: 'char', test: negate ? (x) => !matches(x) : matches };
  }
}

// The automaton: states in an array, epsilon edges through `split` and `assert`.
type State =
  | { t: 'char'; test: (cp: number) => boolean; out: number }
  | { t: 'split'; a: number; b: number }
  | { t: 'assert'; kind: '^' | '$' | 'b' | 'B'; out: number }
  | { t: 'match' };

class Compiler {
  readonly states: State[] = [];

  private add(state: State): number {
    if (this.states.length >= MAX_STATES)
      throw new RegexRejected(`the pattern expands to more than ${MAX_STATES} states`);
    this.states.push(state);
    return this.states.length - 1;
  }

  /** Compiles `node` so that it continues to `next`; returns its entry state. */
  compile(node: Node, next: number): number {
    switch (node.t) {
      case 'char':
        return this.add({ t: 'char', test: node.test, out: next });
      case 'assert':
        return this.add({ t: 'assert', kind: node.kind, out: next });
      case 'cat': {
        let entry = next;
        for (let k = node.items.length - 1; k >= 0; k--) entry = this.compile(node.items[k], entry);
        return entry;
      }
      case 'alt': {
        let entry = this.compile(node.items[node.items.length - 1], next);
        for (let k = node.items.length - 2; k >= 0; k--)
          entry = this.add({ t: 'split', a: this.compile(node.items[k], next), b: entry });
        return entry;
      }
      case 'repeat': {
        let entry = next;
        if (node.max === null) {
          // x*: a loop through a split; its body may be re-entered after each pass.
          const loop = this.add({ t: 'split', a: -1, b: next });
          const body = this.compile(node.node, loop);
          (this.states[loop] as { a: number }).a = body;
          entry = loop;
        } else {
          for (let k = node.min; k < node.max; k++)
            entry = this.add({ t: 'split', a: this.compile(node.node, entry), b: next });
        }
        for (let k = 0; k < node.min; k++) entry = this.compile(node.node, entry);
        return entry;
      }
    }
  }
}

export interface RegexMatch {
  index: number;
  text: string;
}

export class BoundedRegex {
  private readonly states: State[];
  private readonly start: number;
  /**
   * Tests a code point against every character state the start reaches without consuming one;
   * null when the start reaches a match that way (an empty match is possible). Where no thread
   * is alive, positions whose character passes none of them cannot start a match and are
   * skipped without running the automaton: the same result, found much sooner in long texts.
   */
  private readonly canStart: ((c: number) => boolean) | null;

  private constructor(states: State[], start: number) {
    this.states = states;
    this.start = start;
    this.canStart = firstCharTest(states, start);
  }

  /** Compiles a pattern or throws `RegexRejected` saying why not. */
  static compile(pattern: string, caseInsensitive = true): BoundedRegex {
    if (!pattern.length) throw new RegexRejected('the pattern is empty');
    if ([...pattern].length > REGEX_MAX_LENGTH)
      throw new RegexRejected(`patterns are at most ${REGEX_MAX_LENGTH} characters`);
    const ast = new Parser(pattern, caseInsensitive).parse();
    const compiler = new Compiler();
    const match = compiler.states.length;
    compiler.states.push({ t: 'match' });
    const start = compiler.compile(ast, match);
    return new BoundedRegex(compiler.states, start);
  }

  /**
   * The leftmost-longest match, or null. Time linear in the text. Threads live in two lists of
   * state numbers (the position's and the next), each with the thread's start position and a
   * mark of the position it was added for, so nothing is allocated per character.
   */
  exec(text: string): RegexMatch | null {
    const cps = Array.from(text, (ch) => cp(ch));
    const length = cps.length;
    const n = this.states.length;
    let list = new Int32Array(n);
    let starts = new Int32Array(n);
    let marks = new Int32Array(n).fill(-1);
    let nextList = new Int32Array(n);
    let nextStarts = new Int32Array(n);
    let nextMarks = new Int32Array(n).fill(-1);
    let count = 0;
    let bestStart = -1;
    let bestEnd = -1;
    const states = this.states;
    const canStart = this.canStart;

    // Adds state s (and what it reaches without consuming a character) for position pos.
    const addThread = (
      into: Int32Array,
      intoStarts: Int32Array,
      intoMarks: Int32Array,
      size: number,
      s: number,
      start: number,
      pos: number,
    ): number => {
      if (intoMarks[s] === pos) return size;
      intoMarks[s] = pos;
      intoStarts[s] = start;
      const state = states[s];
      if (state.t === 'split') {
        size = addThread(into, intoStarts, intoMarks, size, state.a, start, pos);
        return addThread(into, intoStarts, intoMarks, size, state.b, start, pos);
      }
      if (state.t === 'assert') {
        const before = pos > 0 ? cps[pos - 1] : -1;
        const after = pos < length ? cps[pos] : -1;
        const boundary = (before >= 0 && isWord(before)) !== (after >= 0 && isWord(after));
        const holds =
          state.kind === '^'
            ? pos === 0
            : state.kind === '$'
              ? pos === length
              : state.kind === 'b'
                ? boundary
                : !boundary;
        return holds ? addThread(into, intoStarts, intoMarks, size, state.out, start, pos) : size;
      }
      into[size] = s;
      return size + 1;
    };

    for (let pos = 0; pos <= length; pos++) {
      if (bestStart < 0) {
        if (count === 0 && canStart) {
          while (pos < length && !canStart(cps[pos])) pos++;
          if (pos === length) break; // no character left to start a match with
        }
        count = addThread(list, starts, marks, count, this.start, pos, pos);
      }
      for (let k = 0; k < count; k++) {
        const s = list[k];
        if (states[s].t !== 'match') continue;
        const start = starts[s];
        if (bestStart < 0 || start < bestStart || (start === bestStart && pos > bestEnd)) {
          bestStart = start;
          bestEnd = pos;
        }
      }
      if (pos === length) break;
      let nextCount = 0;
      const c = cps[pos];
      for (let k = 0; k < count; k++) {
        const s = list[k];
        const state = states[s];
        if (state.t !== 'char') continue;
        if (bestStart >= 0 && starts[s] > bestStart) continue;
        if (state.test(c))
          nextCount = addThread(
            nextList,
            nextStarts,
            nextMarks,
            nextCount,
            state.out,
            starts[s],
            pos + 1,
          );
      }
      [list, nextList] = [nextList, list];
      [starts, nextStarts] = [nextStarts, starts];
      [marks, nextMarks] = [nextMarks, marks];
      count = nextCount;
      if (bestStart >= 0 && count === 0) break;
    }
    return bestStart >= 0
      ? { index: bestStart, text: String.fromCodePoint(...cps.slice(bestStart, bestEnd)) }
      : null;
  }
}

/**
 * The character states the start reaches through splits and assertions (every assertion taken
 * as holding), as one test; null when a match is reachable that way.
 */
function firstCharTest(states: State[], start: number): ((c: number) => boolean) | null {
  const seen = new Set<number>();
  const tests: ((c: number) => boolean)[] = [];
  const stack = [start];
  while (stack.length) {
    const s = stack.pop() as number;
    if (seen.has(s)) continue;
    seen.add(s);
    const state = states[s];
    if (state.t === 'match') return null;
    if (state.t === 'split') stack.push(state.a, state.b);
    else if (state.t === 'assert') stack.push(state.out);
    else tests.push(state.test);
  }
  if (tests.length === 1) return tests[0];
  return (c) => {
    for (const test of tests) if (test(c)) return true;
    return false;
  };
}
