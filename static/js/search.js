// Search page: queries the Pagefind index written by `kxsj build`.
//
// Everything is found relative to this script (static/js/search.js), so the
// page works at the site root and under a sub-path such as /repo/: the site
// root is two folders up, the index is <root>/pagefind/.  Results whose title
// contains every query term come first (Pagefind's own ranking already
// weights titles); each shows the title, the date and a snippet around the
// hit.  The query lives in ?q=, so a header search box can link here and the
// back button works.

const siteRoot = new URL("../../", import.meta.url);
const MAX_SHOWN = 20;
const MAX_LOADED = 50;

const box = document.querySelector("[data-search]");
const form = box.querySelector("form");
const input = box.querySelector("input[name=q]");
const status = box.querySelector(".search-status");
const list = box.querySelector(".search-results");

function say(text) {
  status.textContent = text;
}

// Pagefind's excerpt is HTML with <mark> around the hits; keep only text and
// <mark>, so nothing from the index can become markup.
function excerptNodes(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const fragment = document.createDocumentFragment();
  for (const node of template.content.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      fragment.append(mark);
    } else {
      fragment.append(document.createTextNode(node.textContent));
    }
  }
  return fragment;
}

function titleFirst(items, query) {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const inTitle = (item) => {
    const title = (item.meta.title || "").toLowerCase();
    return terms.every((term) => title.includes(term));
  };
  return [...items.filter(inTitle), ...items.filter((item) => !inTitle(item))];
}

function show(items, total, query) {
  list.replaceChildren();
  if (!total) {
    say(`没有找到与“${query}”相关的文章。`);
    return;
  }
  say(total > items.length ? `找到 ${total} 篇文章，显示前 ${items.length} 篇：` : `找到 ${total} 篇文章：`);
  for (const item of items) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.className = "search-title";
    link.href = item.url;
    link.textContent = item.meta.title || item.url;
    li.append(link);
    if (item.meta.date) {
      const time = document.createElement("time");
      time.dateTime = item.meta.date;
      time.textContent = item.meta.date;
      li.append(time);
    }
    const excerpt = document.createElement("p");
    excerpt.className = "search-excerpt";
    excerpt.append(excerptNodes(item.excerpt || ""));
    li.append(excerpt);
    list.append(li);
  }
}

async function loadPagefind() {
  const pagefind = await import(new URL("pagefind/pagefind.js", siteRoot).href);
  await pagefind.options({ baseUrl: siteRoot.pathname, excerptLength: 40 });
  await pagefind.init();
  return pagefind;
}

let pagefindReady = null;
let latest = 0;

async function run(query) {
  const ticket = ++latest;
  const url = new URL(location.href);
  if (query) url.searchParams.set("q", query);
  else url.searchParams.delete("q");
  history.replaceState(null, "", url);
  if (!query) {
    list.replaceChildren();
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
  const search = await pagefind.search(query);
  if (ticket !== latest) return; // a newer query is on its way
  const loaded = await Promise.all(search.results.slice(0, MAX_LOADED).map((r) => r.data()));
  if (ticket !== latest) return;
  show(titleFirst(loaded, query).slice(0, MAX_SHOWN), search.results.length, query);
}

let timer = null;
input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => run(input.value.trim()), 250);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(timer);
  run(input.value.trim());
});

pagefindReady = loadPagefind();
pagefindReady.catch(() => {}); // reported by run() when a query needs it
const initial = new URLSearchParams(location.search).get("q") || "";
input.value = initial;
if (initial) run(initial.trim());
