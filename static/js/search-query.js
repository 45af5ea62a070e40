// How a query becomes Pagefind searches, and which results come first.
//
// The index holds, besides each post's text, "search terms" written at build
// time by src/kxsj/write/search_terms.py: every run of Han characters as its
// overlapping character pairs (plus the run's last character), each character
// spelled as four letters.  Pagefind's own Chinese word segmentation differs
// between the index and the browser, and lost posts; pairs do not: a post
// whose text holds the query holds all of its pairs.  The rules here must
// stay those of search_terms.py (a browser test compares them).

const HAN_RUN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3ffff}]+/gu; // HAN of src/kxsj/cjk_ranges.py
const WORD = /[0-9a-z]+/g;
const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const RUN_END = "zzzz"; // a run's last character, padded to a pair's length
export const TEXT_PREFIX = "kx";
export const TITLE_PREFIX = "ky";
export const TERMS_MARK = "kxsjterms";

export function letters(char) {
  let code = char.codePointAt(0);
  let out = "";
  for (let i = 0; i < 4; i++) {
    out = LETTERS[code % 26] + out;
    code = Math.floor(code / 26);
  }
  return out;
}

// A query's Han run for Pagefind: its pairs as a quoted phrase (Pagefind then
// wants exactly these terms, one after the other, as the run is in the post;
// unquoted, it would drop a pair no post has and match the others), or the
// one character, which Pagefind matches as the prefix of the pairs it starts.
function runTerms(run, prefix) {
  const coded = Array.from(run, letters);
  if (coded.length === 1) return [prefix + coded[0]];
  return [`"${coded.slice(1).map((code, i) => prefix + coded[i] + code).join(" ")}"`];
}

// The same as han_terms() in search_terms.py (used to check the two agree).
export function hanTerms(text, prefix) {
  const terms = [];
  for (const run of text.match(HAN_RUN) || []) {
    const coded = Array.from(run, letters);
    for (let i = 1; i < coded.length; i++) terms.push(prefix + coded[i - 1] + coded[i]);
    terms.push(prefix + coded[coded.length - 1] + RUN_END);
  }
  return terms;
}

// What to ask Pagefind for a query: `text` searches the posts' text (Han runs
// as pair terms, other words as typed), `title` the posts' titles (every
// word as terms).  Empty strings when the query has nothing to search.
export function pagefindQueries(query) {
  const lowered = query.toLowerCase();
  const han = lowered.match(HAN_RUN) || [];
  const rest = lowered.replace(HAN_RUN, " ").replaceAll('"', " "); // quotes are ours to place
  const textTerms = han.flatMap((run) => runTerms(run, TEXT_PREFIX));
  const titleTerms = han.flatMap((run) => runTerms(run, TITLE_PREFIX));
  for (const word of rest.match(WORD) || []) titleTerms.push(TITLE_PREFIX + Array.from(word, letters).join(""));
  const words = rest.split(/\s+/).filter(Boolean);
  return { text: [...textTerms, ...words].join(" "), title: titleTerms.join(" ") };
}

// All results of a query, ids only (cheap: no page data is loaded), posts
// whose title holds the query first, each group in Pagefind's order.
// `filters` is Pagefind's filter object ({tag: ["…"]}); a query without
// words lists every post the filters allow.
export async function findResults(pagefind, query, filters = {}) {
  const { text, title } = pagefindQueries(query);
  const options = { filters };
  if (!text) return Object.keys(filters).length ? (await pagefind.search(null, options)).results : [];
  // Pagefind does not rank phrase matches (all score alike): the same terms
  // unquoted give the order, the phrases which posts are results.
  const loose = text.replaceAll('"', "");
  const none = Promise.resolve({ results: [] });
  const [exact, ranked, titled] = await Promise.all([
    pagefind.search(text, options),
    loose !== text ? pagefind.search(loose, options) : none,
    title ? pagefind.search(title, options) : none,
  ]);
  const found = new Set(exact.results.map((r) => r.id));
  const order = ranked.results.filter((r) => found.delete(r.id));
  const all = [...order, ...exact.results.filter((r) => found.has(r.id))];
  const inTitle = new Set(titled.results.map((r) => r.id));
  return [...all.filter((r) => inTitle.has(r.id)), ...all.filter((r) => !inTitle.has(r.id))];
}

// The page's visible text from Pagefind's data: the search terms cut off,
// and the title in front of the text, which the result already shows.
export function visibleText(content, title) {
  let text = content;
  const mark = text.indexOf(TERMS_MARK);
  if (mark >= 0) text = text.slice(0, mark);
  text = text.trim();
  if (title && text.startsWith(title)) text = text.slice(title.length).replace(/^[.\s]+/, "");
  return text;
}

// A snippet of `text` around the first hit: [{text, hit}] parts.  The whole
// query is looked for first, then its words, then each Han pair.
export function snippet(text, query, width = 90) {
  const lowered = text.toLowerCase();
  const q = query.toLowerCase().trim();
  const needles = [q, ...q.split(/\s+/)];
  for (const run of q.match(HAN_RUN) || []) {
    for (let i = 0; i + 2 <= run.length; i++) needles.push(run.slice(i, i + 2));
  }
  const found = needles.filter(Boolean).filter((n) => lowered.includes(n));
  if (!q || !found.length) return [{ text: text.slice(0, width) + (text.length > width ? "…" : ""), hit: false }];
  const first = Math.min(...found.map((n) => lowered.indexOf(n)));
  const start = Math.max(0, first - Math.floor(width / 3));
  const end = Math.min(text.length, start + width);
  const piece = text.slice(start, end);
  const lowPiece = piece.toLowerCase();
  const parts = [];
  let at = 0;
  while (at < piece.length) {
    let next = -1;
    let len = 0;
    for (const n of found) {
      const i = lowPiece.indexOf(n, at);
      if (i >= 0 && (next < 0 || i < next || (i === next && n.length > len))) [next, len] = [i, n.length];
    }
    if (next < 0) break;
    if (next > at) parts.push({ text: piece.slice(at, next), hit: false });
    parts.push({ text: piece.slice(next, next + len), hit: true });
    at = next + len;
  }
  if (at < piece.length) parts.push({ text: piece.slice(at), hit: false });
  if (start > 0) parts.unshift({ text: "…", hit: false });
  if (end < text.length) parts.push({ text: "…", hit: false });
  return parts;
}
