// The counter page's service worker (served as /verifier/sw.js, scope /verifier/).
// It keeps what the page needs to work with no network: the page itself, its
// scripts, styles and vendored decoders, and the trust snapshot. Network first
// (a fresh page and snapshot whenever the hub answers), the cached copy when it
// does not. Verification requests (POST) are never cached: nothing a clerk
// scans is kept here.
"use strict";

const CACHE = "govtrust-counter-v1";
const SCOPE = new URL(self.registration.scope);
const SHELL = [
  "",
  "static/counter.js",
  "static/offline.js",
  "static/counter.css",
  "static/vendor/jsQR.js",
  "static/vendor/sm2.js",
  "api/snapshot",
].map((p) => new URL(p, SCOPE).href);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// The cache key of a GET: the page under any ?lang=… is kept per language.
function keep(request) {
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return false;
  const path = url.pathname.slice(SCOPE.pathname.length);
  return path === "" || path.startsWith("static/") || path === "api/snapshot" || path === "api/trust";
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !keep(request)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(async () => {
        const cache = await caches.open(CACHE);
        const hit = (await cache.match(request)) || (await cache.match(request, { ignoreSearch: true }));
        if (hit) return hit;
        return new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      }),
  );
});
