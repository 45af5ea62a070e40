// Search page: queries the Pagefind index written by `kxsj build`.
//
// Everything is found relative to this script (static/js/search.js), so the
// page works at the site root and under a sub-path such as /repo/: the site
// root is two folders up, the index is <root>/pagefind/.
//
// Every result can be reached: Pagefind gives all result ids at once, posts
// whose title holds the query first (search-query.js), and a page of
// results at a time is loaded ("显示更多").  The query and the chosen filters
// (tag, category, year) live in the URL (?q=…&tag=…), so a search can be
// linked and the header search box just opens /search/?q=….

import { findResults, snippet, visibleText } from "./search-query.js";

const siteRoot = new URL("../../", import.meta.url);
const PAGE_SIZE = 20;
const FILTERS = [
  ["tag", "全部标签"],
  ["category", "全部分类"],
  ["year", "全部年份"],
];

const box = document.querySelector("[data-search]");
const form = box.querySelector("form");
const input = box.querySelector("input[name=q]");
const filterBox = box.querySelector(".search-filters");
const status = box.querySelector(".search-status");
const list = box.querySelector(".search-results");
const more = box.querySelector(".search-more");

function say(text) {
  status.textContent = text;
}

function selects() {
  return [...filterBox.querySelectorAll("select")];
}

// Pagefind's filter object from the selects: {tag: "…"} for each one chosen.
function chosenFilters() {
  const chosen = {};
  for (const select of selects()) if (select.value) chosen[select.name] = select.value;
  return chosen;
}

function describe(query, filters) {
  const parts = Object.values(filters).map((value) => `“${value}”`);
  if (query) parts.unshift(`“${query}”`);
  return parts.join("、");
}

function resultItem(data, query) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.className = "search-title";
  link.href = data.url;
  const title = data.meta.title || data.url;
  link.textContent = title;
  li.append(link);
  if (data.meta.date) {
    const time = document.createElement("time");
    time.dateTime = data.meta.date;
    time.textContent = data.meta.date;
    li.append(time);
  }
  const excerpt = document.createElement("p");
  excerpt.className = "search-excerpt";
  for (const part of snippet(visibleText(data.content || "", title), query)) {
    if (part.hit) {
      const mark = document.createElement("mark");
      mark.textContent = part.text;
      excerpt.append(mark);
    } else {
      excerpt.append(document.createTextNode(part.text));
    }
  }
  li.append(excerpt);
  return li;
}

// The current search: its results and how many are shown.
let current = { ticket: 0, results: [], shown: 0, query: "" };

async function showMore(ticket) {
  const { results, shown, query } = current;
  more.disabled = true;
  const batch = await Promise.all(results.slice(shown, shown + PAGE_SIZE).map((r) => r.data()));
  if (ticket !== current.ticket) return;
  list.append(...batch.map((data) => resultItem(data, query)));
  current.shown = shown + batch.length;
  const total = results.length;
  say(current.shown < total ? `找到 ${total} 篇文章，已显示 ${current.shown} 篇：` : `找到 ${total} 篇文章：`);
  more.hidden = current.shown >= total;
  more.disabled = false;
}

function remember(query, filters) {
  const url = new URL(location.href);
  for (const key of ["q", ...FILTERS.map(([name]) => name)]) url.searchParams.delete(key);
  if (query) url.searchParams.set("q", query);
  for (const [name, value] of Object.entries(filters)) url.searchParams.set(name, value);
  history.replaceState(null, "", url);
}

async function loadPagefind() {
  const pagefind = await import(new URL("pagefind/pagefind.js", siteRoot).href);
  await pagefind.options({ baseUrl: siteRoot.pathname });
  await pagefind.init();
  return pagefind;
}

let pagefindReady = null;

async function run() {
  const query = input.value.trim();
  const filters = chosenFilters();
  const ticket = current.ticket + 1;
  current = { ticket, results: [], shown: 0, query };
  remember(query, filters);
  list.replaceChildren();
  more.hidden = true;
  if (!query && !Object.keys(filters).length) {
    say("");
    return;
  }
  say("正在搜索…");
  let pagefind;
  try {
    pagefind = await pagefindReady;
  } catch (error) {
    say("搜索不可用：没有找到本站的搜索索引（pagefind/）。请用安装了 Pagefind 的 kxsj 重新构建本站。");
    return;
  }
  const results = await findResults(pagefind, query, filters);
  if (ticket !== current.ticket) return; // a newer search is on its way
  current.results = results;
  if (!results.length) {
    say(`没有找到与${describe(query, filters)}相关的文章。`);
    return;
  }
  await showMore(ticket);
}

// The filter selects, filled from the index: each value with its post count.
async function fillFilters(params) {
  const available = await (await pagefindReady).filters();
  for (const [name, all] of FILTERS) {
    const counts = available[name] || {};
    const values = Object.keys(counts);
    if (!values.length) continue;
    values.sort(name === "year" ? (a, b) => b.localeCompare(a) : (a, b) => a.localeCompare(b, "zh"));
    const select = document.createElement("select");
    select.name = name;
    select.setAttribute("aria-label", all);
    select.append(new Option(all, ""));
    for (const value of values) select.append(new Option(`${value}（${counts[value]}）`, value));
    select.value = values.includes(params.get(name)) ? params.get(name) : "";
    select.addEventListener("change", run);
    filterBox.append(select);
  }
}

let timer = null;
input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(run, 250);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(timer);
  run();
});
more.addEventListener("click", () => showMore(current.ticket));

pagefindReady = loadPagefind();
const params = new URLSearchParams(location.search);
input.value = params.get("q") || "";
// The address's search, once the filters are in, unless the reader has
// searched already meanwhile (typing while the index loads): that search
// stands, and is not run again over its own answer.
const untouched = () => current.ticket === 0;
fillFilters(params).then(
  () => untouched() && (input.value.trim() || Object.keys(chosenFilters()).length) && run(),
  () => untouched() && input.value.trim() && run(), // run() says search is unavailable
);
