// gradlab embeds for any page: one figure, <gradlab-widget experiment="gumbel"
// panels="bias-variance" controls="tau" config="tau=0.3"> (panels: the figures
// to show, by their ids in experiments.json; controls: the config keys to
// offer, plus "share" and "backend"), or the whole widget, <gradlab-widget
// experiment="gumbel" config="tau=0.3" hide="tau,seed"> (hide: controls to
// leave out, or "controls" for all of them), and plain
// <iframe src=".../embed/<id>?..."> elements, all sized to their
// content. Embed pages are found next to this script, so a lab served under a
// sub-path (e.g. GitHub Pages' /gradlab/) embeds from there. The iframe reports its height with postMessage; only messages
// from gradlab's own origin and from the iframe itself are accepted.
(() => {
  const script = document.currentScript;
  const base = new URL('.', script ? script.src : location.href);
  const origin = base.origin;
  // The lab's experiments, from the registry's experiments.json (written by
  // the same build, next to this script): fetched once, on first use.
  let registry;
  const experiments = () =>
    (registry ??= fetch(new URL('experiments.json', base))
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((list) => list.map((e) => e.id)));

  const frames = new Set();
  const track = (iframe) => frames.add(iframe);
  addEventListener('message', (event) => {
    if (event.origin !== origin || !event.data || event.data.type !== 'gradlab:height') return;
    for (const iframe of frames) {
      if (iframe.contentWindow === event.source) {
        const h = Number(event.data.height);
        if (Number.isFinite(h) && h > 0 && h < 100000) iframe.style.height = `${Math.ceil(h)}px`;
      }
    }
  });

  class GradlabWidget extends HTMLElement {
    connectedCallback() {
      if (this.firstChild || this.pending) return;
      this.pending = true;
      const note = (text) => {
        const p = document.createElement('p');
        p.textContent = text;
        this.append(p);
      };
      experiments().then(
        (ids) => {
          this.pending = false;
          if (this.firstChild) return;
          const id = (this.getAttribute('experiment') || '').trim();
          if (!ids.includes(id)) {
            note(`gradlab: unknown experiment "${id.slice(0, 40)}" (one of: ${ids.join(', ')})`);
            return;
          }
          // The config is a query string; URLSearchParams re-encodes it safely.
          const params = new URLSearchParams(this.getAttribute('config') || '');
          // The embed page checks these names and says which it cannot use.
          for (const key of ['panels', 'controls', 'hide']) {
            const value = (this.getAttribute(key) || '').trim();
            if (value) params.set(key, value);
          }
          const iframe = document.createElement('iframe');
          iframe.src = new URL(`embed/${id}?${params}`, base).href;
          iframe.title = `gradlab: ${id}`;
          iframe.loading = 'lazy';
          iframe.style.cssText = `width:100%;border:0;height:${params.has('panels') ? 360 : 480}px;display:block`;
          track(iframe);
          this.append(iframe);
        },
        (e) => {
          this.pending = false;
          note(`gradlab: the list of experiments could not be loaded (${String(e.message || e).slice(0, 80)})`);
        },
      );
    }
  }
  if (!customElements.get('gradlab-widget')) customElements.define('gradlab-widget', GradlabWidget);

  const adopt = () => {
    for (const iframe of document.querySelectorAll('iframe')) {
      try {
        const u = new URL(iframe.src, location.href);
        if (u.origin === origin && u.pathname.startsWith(`${base.pathname}embed/`)) track(iframe);
      } catch {
        // not a URL we embed
      }
    }
  };
  if (document.readyState === 'loading') addEventListener('DOMContentLoaded', adopt);
  else adopt();
})();
