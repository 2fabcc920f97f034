//! The site's own words, and its first paint: the gallery and About written
//! as static HTML from the registry (`static/first-paint.html`, which
//! `scripts/first-paint.mjs` puts into index.html at build time), so a reader
//! sees them before the wasm has loaded. The app (`ui::pages`) draws the same
//! words with the same markup and replaces the static copy when it mounts;
//! e2e/first-paint.spec.mjs holds the two to the same text and layout.

use crate::experiments::registry::{ExperimentInfo, REGISTRY};

/// The gallery's heading.
pub const HERO_TITLE: &str = "Gradient estimators, smoothing and diffusion — live.";
/// The gallery's introduction.
pub const HERO_TEXT: &str = "Every widget is a small experiment from a paper. It runs in this tab, on your GPU through WebGPU or on the CPU, with numbers you can check: the same seed gives the same draws on both.";
/// About's first paragraph, around the word `gradlab` set as code.
pub const ABOUT_BEFORE_CODE: &str = "gradlab is an open-source lab that runs entirely in the browser: Rust compiled to WebAssembly, computing on the GPU through WebGPU and falling back to the CPU where WebGPU is missing. Each experiment also runs headless from the ";
pub const ABOUT_AFTER_CODE: &str = " command line with the same settings as its URL, so a figure in a paper and a link in a blog show the same numbers.";
/// The footer's line (before its link to the papers).
pub const FOOTER: &str = "gradlab — open source; every number is computed in this tab. ";
/// What the backend badge says before WebGPU has been probed.
pub const BADGE_PROBING: &str = "CPU (detecting WebGPU…)";

/// "From <first paper> (<venue>)" and how many more, under a gallery card's claim.
pub fn card_from(info: &ExperimentInfo) -> String {
    let first = info.papers[0];
    let more = match info.papers.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    format!("From {} ({}){more}", first.title, first.venue)
}

/// `text` with HTML's special characters escaped, for text and attributes.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn card(info: &ExperimentInfo) -> String {
    format!(
        r#"<li class="card" data-testid="first-paint-card" data-id="{id}"><a href="{id}"><span class="status">Live</span><h2>{title}</h2><p class="claim">{claim}</p><p class="from">{from}</p></a></li>"#,
        id = esc(info.id),
        title = esc(info.title),
        claim = esc(info.claim),
        from = esc(&card_from(info)),
    )
}

fn about_section(info: &ExperimentInfo) -> String {
    let papers: String = info
        .papers
        .iter()
        .map(|p| {
            format!(
                r#"<li><a href="{url}" target="_blank" rel="noopener noreferrer">{title}</a><span class="cite">{cite}</span></li>"#,
                url = esc(p.url),
                title = esc(p.title),
                cite = esc(&format!(" — {} ({})", p.authors, p.venue)),
            )
        })
        .collect();
    format!(
        r#"<section class="papers"><h3>{}</h3><ul>{papers}</ul></section>"#,
        esc(info.title)
    )
}

/// The static first paint: the site's header and footer around the gallery
/// and About (each shown only on its own route, by the inline script that
/// scripts/first-paint.mjs adds) and a loading line for every other route.
/// Relative links resolve against the page's `<base>`, so they work under
/// any public URL before the app takes over.
pub fn first_paint_html() -> String {
    let infos: Vec<&ExperimentInfo> = REGISTRY.iter().map(|e| e.info()).collect();
    let cards: String = infos.iter().map(|i| card(i)).collect();
    let papers: String = infos.iter().map(|i| about_section(i)).collect();
    format!(
        r##"<div id="first-paint">
<header class="site"><a href="./" class="logo"><span class="mark" aria-hidden="true">∇</span>gradlab</a><nav aria-label="Main"><a href="./">Experiments</a><a href="about">About</a></nav><div class="backend"><span class="badge">{badge}</span><select aria-label="Compute backend" disabled><option>Auto</option></select></div></header>
<main>
<div data-view="gallery"><section class="hero"><h1>{hero_title}</h1><p>{hero_text}</p></section><ul class="gallery">{cards}</ul></div>
<div data-view="about"><article class="prose"><h1>About gradlab</h1><p>{about_before}<code>gradlab</code>{about_after}</p><h2>Papers the lab implements</h2>{papers}</article></div>
<div data-view="other"><p class="running">Loading the lab…</p></div>
</main>
<footer class="site">{footer}<a href="about">Papers</a></footer>
</div>
"##,
        badge = esc(BADGE_PROBING),
        hero_title = esc(HERO_TITLE),
        hero_text = esc(HERO_TEXT),
        about_before = esc(ABOUT_BEFORE_CODE),
        about_after = esc(ABOUT_AFTER_CODE),
        footer = esc(FOOTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_reads_as_markup() {
        assert_eq!(
            esc(r#"a < b & "c" > d"#),
            "a &lt; b &amp; &quot;c&quot; &gt; d"
        );
    }

    #[test]
    fn every_experiment_has_a_card_and_an_about_section() {
        let html = first_paint_html();
        for e in REGISTRY {
            let id = e.info().id;
            assert!(
                html.contains(&format!(r#"data-id="{id}"><a href="{id}">"#)),
                "{id}"
            );
            assert!(html.contains(&esc(e.info().title)), "{id}");
        }
        assert_eq!(html.matches("<li class=\"card\"").count(), REGISTRY.len());
    }
}
