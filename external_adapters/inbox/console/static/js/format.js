// Times, durations, and text made into DOM nodes (links as <a>, never innerHTML).
import { el } from "./dom.js";

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const day = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });

/** A `<time datetime="ISO 8601">14:05</time>` for a unix time in seconds. */
export function timeNode(seconds) {
  const date = new Date(seconds * 1000);
  return el("time", { datetime: date.toISOString(), title: date.toLocaleString() }, time.format(date));
}

/** "14:05" for a unix time in seconds. */
export const clock = (seconds) => time.format(new Date(seconds * 1000));

/** "Today", "Yesterday" or the full date, for day separators. */
export function dayLabel(seconds, now = Date.now() / 1000) {
  const key = (s) => new Date(s * 1000).toDateString();
  if (key(seconds) === key(now)) return "Today";
  if (key(seconds) === key(now - 86400)) return "Yesterday";
  return day.format(new Date(seconds * 1000));
}

/** The day a unix time falls on, to compare messages (local time). */
export const dayKey = (seconds) => new Date(seconds * 1000).toDateString();

/** A short duration in words: "under 1 min", "3 min", "2 h 5 min", "3 d". */
export function duration(seconds) {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  if (minutes < 1) return "under 1 min";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** "4:59" for a countdown in seconds. */
export function countdown(seconds) {
  const left = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}

/** The URL when it is http(s) (what may become a link or an image), else null: no javascript: or data: URLs. */
export function safeUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;

/** An external link: opens in a new tab, without handing the page to the target. */
export function link(href, text) {
  return el("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
}

/** Text as nodes, its http(s) URLs as links (a URL's trailing punctuation stays text). */
export function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of String(text ?? "").matchAll(URL_PATTERN)) {
    const url = match[0].replace(TRAILING, "");
    nodes.push(text.slice(last, match.index), link(url, url));
    last = match.index + url.length;
  }
  nodes.push(String(text ?? "").slice(last));
  return nodes.filter((node) => node !== "");
}
