// The page's only JavaScript outside the wasm (kept out of inline scripts so a
// Content-Security-Policy can forbid them): the service worker and its update
// prompt, and an embed's height report. Paths are relative to this script, so
// the lab works under any sub-path (Trunk's --public-url).
(() => {
  const here = document.currentScript ? document.currentScript.src : location.href;

  // Offline use: the service worker precaches this build (scripts/precache.mjs).
  // A new build's worker installs beside the old one and waits; the page is
  // told (window.gradlabUpdate + a 'gradlab:update' event) and shows an
  // "Update available — reload" button. Nothing reloads by itself, so a
  // running widget is never interrupted and one page never mixes two builds.
  if ('serviceWorker' in navigator) {
    const sw = navigator.serviceWorker;
    const announce = (worker) => {
      if (!sw.controller || window.gradlabUpdate === worker) return;
      window.gradlabUpdate = worker;
      dispatchEvent(new CustomEvent('gradlab:update'));
    };
    const watch = (worker) => {
      if (!worker) return;
      if (worker.state === 'installed') announce(worker);
      worker.addEventListener('statechange', () => {
        if (worker.state === 'installed') announce(worker);
      });
    };
    window.gradlabApplyUpdate = () => {
      const worker = window.gradlabUpdate;
      if (!worker) return;
      let reloading = false;
      sw.addEventListener('controllerchange', () => {
        if (reloading) return;
        reloading = true;
        location.reload();
      });
      worker.postMessage({ type: 'SKIP_WAITING' });
    };
    addEventListener('load', () => {
      sw.register(new URL('sw.js', here).href).then((reg) => {
        if (!reg) return; // service workers blocked (an automation setting, some privacy modes)
        watch(reg.waiting);
        watch(reg.installing);
        reg.addEventListener('updatefound', () => watch(reg.installing));
        // A tab left open for hours still hears of new builds.
        setInterval(() => reg.update().catch(() => {}), 60 * 60 * 1000);
      }, () => {});
    });
  }

  // Embedded in another page: report the content height so the iframe never
  // scrolls, and again whenever it changes, growing or shrinking (the root
  // element's own height, not the document's scroll height, which never
  // drops below the frame's).
  if (window.parent !== window && location.pathname.includes('/embed/')) {
    let last = 0;
    const report = () => {
      const h = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (h > 0 && h !== last) {
        last = h;
        window.parent.postMessage({ type: 'gradlab:height', height: h }, '*');
      }
    };
    new ResizeObserver(report).observe(document.documentElement);
    report();
  }
})();
