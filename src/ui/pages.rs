//! The gallery, the About page, "coming" pages and 404. The gallery and
//! About also exist as static HTML for the first paint (`crate::site`), with
//! the same words and markup.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::experiments::papers::Paper;
use crate::experiments::registry::{self, ExperimentInfo, REGISTRY};
use crate::site;

#[component]
fn PaperLink(paper: Paper) -> impl IntoView {
    view! {
        <a href=paper.url target="_blank" rel="noopener noreferrer">
            {paper.title}
        </a>
        <span class="cite">{format!(" — {} ({})", paper.authors, paper.venue)}</span>
    }
}

/// "Title (venue)" linking to the paper: the citation every widget panel ends with.
pub fn paper_anchor(paper: Paper) -> impl IntoView {
    view! {
        <a href=paper.url target="_blank" rel="noopener noreferrer">
            {format!("{} ({})", paper.title, paper.venue)}
        </a>
    }
}

#[component]
fn Card(info: ExperimentInfo) -> impl IntoView {
    let live = super::widget(info.id).is_some();
    view! {
        <li class="card" class:coming=!live data-testid="experiment-card" data-id=info.id>
            <A href=super::app_href(&format!("/{}", info.id))>
                <span class="status">{if live { "Live" } else { "Coming" }}</span>
                <h2>{info.title}</h2>
                <p class="claim">{info.claim}</p>
                <p class="from">{site::card_from(&info)}</p>
            </A>
        </li>
    }
}

#[component]
pub fn Gallery() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>{site::HERO_TITLE}</h1>
            <p>{site::HERO_TEXT}</p>
        </section>
        <ul class="gallery" data-testid="gallery">
            {REGISTRY.iter().map(|e| view! { <Card info=*e.info() /> }).collect_view()}
        </ul>
    }
}

#[component]
pub fn About() -> impl IntoView {
    view! {
        <article class="prose">
            <h1>"About gradlab"</h1>
            <p>{site::ABOUT_BEFORE_CODE} <code>"gradlab"</code> {site::ABOUT_AFTER_CODE}</p>
            <h2>"Papers the lab implements"</h2>
            {REGISTRY
                .iter()
                .map(|e| e.info())
                .map(|info| {
                    view! {
                        <section class="papers" data-testid="papers">
                            <h3>
                                {info.title}
                                {super::widget(info.id).is_none().then_some(" (coming)")}
                            </h3>
                            <ul>
                                {info
                                    .papers
                                    .iter()
                                    .map(|p| view! { <li><PaperLink paper=*p /></li> })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })
                .collect_view()}
        </article>
    }
}

/// `/:id`: the experiment's widget; for an experiment whose widget is not
/// built yet, an honest "coming" page (no fake widget); otherwise 404.
#[component]
pub fn ExperimentPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        if let Some(widget) = super::widget(&id) {
            return widget();
        }
        match registry::find(&id).map(|e| e.info()) {
            Some(info) => view! {
                <article class="prose">
                    <p class="status-line">"Coming soon"</p>
                    <h1>{info.title}</h1>
                    <p class="claim">{info.claim}</p>
                    <p>
                        "This widget is being built. It will implement the papers below, with a CPU and a WebGPU path that agree, and a "
                        <code>{format!("gradlab {}", info.id)}</code>
                        " command with the same settings."
                    </p>
                    <ul>
                        {info.papers.iter().map(|p| view! { <li><PaperLink paper=*p /></li> }).collect_view()}
                    </ul>
                    <p><A href=super::app_href("/")>"← All experiments"</A></p>
                </article>
            }
            .into_any(),
            None => view! { <NotFound /> }.into_any(),
        }
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <article class="prose">
            <h1>"Not found"</h1>
            <p>"There is no page at this address. " <A href=super::app_href("/")>"See all experiments."</A></p>
        </article>
    }
}
