// Building DOM nodes. User text only ever becomes text nodes or attribute values, never HTML.

/** `el("a", {href, class: "x", onclick}, "text", childNode)`; `null`/`false` attributes and children are skipped. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** The element with this id (the page's fixed skeleton, index.html). */
export const $ = (id) => document.getElementById(id);

/** Whether the event's target is a place the agent types into (shortcuts are ignored there). */
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

/** Make `parent`'s children `nodes`, keeping in place the ones already there: a live region (role="log")
 * then announces only what is new, not the whole list again. A node whose `data-key` and `data-sig` match a
 * current child is replaced by that child. */
export function patchChildren(parent, nodes) {
  const current = new Map([...parent.children].filter((c) => c.dataset.key).map((c) => [c.dataset.key, c]));
  const wanted = nodes.map((node) => {
    const old = node.dataset && current.get(node.dataset.key);
    return old && old.dataset.sig === node.dataset.sig ? old : node;
  });
  wanted.forEach((node, i) => {
    const at = parent.children[i];
    if (at !== node) parent.insertBefore(node, at || null);
  });
  while (parent.children.length > wanted.length) parent.lastElementChild.remove();
}
