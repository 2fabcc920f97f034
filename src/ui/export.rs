//! Export a plot as a file: "⤓ PNG · SVG" in the corner of every chart's
//! figure. SVG plots are serialised with their computed styles inlined (so the
//! file renders alone, in the colours the page showed) and rasterised at 2×
//! for PNG; canvas plots give their pixels as PNG, wrapped in an SVG `<image>`
//! for SVG. Files are named `gradlab-<experiment>-<plot>.<ext>`.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{Document, Element, HtmlCanvasElement, Window};

/// SVG properties copied from the computed style onto each exported element.
const STYLE_PROPS: &[&str] = &[
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-linejoin",
    "stroke-linecap",
    "stroke-opacity",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
];

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// `Bias`, `Relaxed samples (τ = 0.5)` → `bias`, `relaxed-samples`: a file-name part.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c == '(' || c == ':' || c == '—' {
            break;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() { "plot".into() } else { out }
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Png,
    Svg,
}

/// The "⤓ PNG · SVG" pair; put it inside the plot's `<figure>` (it finds the
/// figure's `<svg>` or `<canvas>` when clicked).
#[component]
pub fn PlotExport(
    /// The plot's part of the file name (made file-safe here).
    #[prop(into)]
    name: String,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Span>::new();
    let name = slug(&name);
    let run = move |format: Format| {
        let Some(el) = node.get_untracked() else {
            return;
        };
        let file = format!("gradlab-{}-{name}", super::current_experiment());
        if let Err(e) = export(&el, format, &file) {
            web_sys::console::warn_1(&format!("gradlab: export failed: {e:?}").into());
        }
    };
    let run2 = run.clone();
    view! {
        <span class="plot-export" node_ref=node>
            <span aria-hidden="true">"⤓ "</span>
            <button type="button" title="Download this plot as PNG" on:click=move |_| run(Format::Png) data-testid="export-png">
                "PNG"
            </button>
            <span aria-hidden="true">" · "</span>
            <button type="button" title="Download this plot as SVG" on:click=move |_| run2(Format::Svg) data-testid="export-svg">
                "SVG"
            </button>
        </span>
    }
}

fn export(control: &Element, format: Format, file: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let doc = window.document().ok_or("no document")?;
    let figure = control.closest("figure")?.ok_or("no figure")?;
    let bg = background(&window, &figure);
    if let Some(svg) = figure.query_selector("svg")? {
        let (text, w, h) = standalone_svg(&window, &doc, &svg, &figure, &bg)?;
        match format {
            Format::Svg => download_text(&doc, &text, "image/svg+xml", &format!("{file}.svg")),
            Format::Png => svg_to_png(&doc, &text, w, h, &bg, format!("{file}.png")),
        }
    } else if let Some(canvas) = figure.query_selector("canvas")? {
        let canvas: HtmlCanvasElement = canvas.dyn_into()?;
        let flat = flatten_canvas(&doc, &canvas, &bg)?;
        match format {
            Format::Png => {
                download_canvas(flat, format!("{file}.png"));
                Ok(())
            }
            Format::Svg => {
                let rect = canvas.get_bounding_client_rect();
                let (w, h) = (rect.width().round(), rect.height().round());
                let data = flat.to_data_url()?;
                let text = format!(
                    "<svg xmlns=\"{SVG_NS}\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"><image width=\"{w}\" height=\"{h}\" href=\"{data}\" xlink:href=\"{data}\"/></svg>"
                );
                download_text(&doc, &text, "image/svg+xml", &format!("{file}.svg"))
            }
        }
    } else {
        Err("no svg or canvas in the figure".into())
    }
}

/// The colour behind `el`: the first ancestor's non-transparent background.
fn background(window: &Window, el: &Element) -> String {
    let mut cur = Some(el.clone());
    while let Some(e) = cur {
        if let Ok(Some(style)) = window.get_computed_style(&e) {
            let c = style
                .get_property_value("background-color")
                .unwrap_or_default();
            if !c.is_empty() && c != "transparent" && c != "rgba(0, 0, 0, 0)" {
                return c;
            }
        }
        cur = e.parent_element();
    }
    "#ffffff".into()
}

/// The figure's SVG as a standalone document: computed styles inlined, a
/// background, the caption's title and legend below the plot; with its size.
fn standalone_svg(
    window: &Window,
    doc: &Document,
    svg: &Element,
    figure: &Element,
    bg: &str,
) -> Result<(String, f64, f64), JsValue> {
    let rect = svg.get_bounding_client_rect();
    let (w, h) = (rect.width().max(1.0), rect.height().max(1.0));
    let (vw, vh) = view_box(svg).unwrap_or((w, h));
    let clone: Element = svg.clone_node_with_deep(true)?.dyn_into()?;
    inline_styles(window, svg, &clone)?;
    let root_style = window.get_computed_style(svg)?.ok_or("no style")?;
    let ink = root_style.get_property_value("color")?;
    let font = root_style.get_property_value("font-family")?;

    // The caption (title, legend keys) as SVG text under the plot.
    let scale = vw / w;
    let font_px = 11.0 * scale;
    let line = 16.0 * scale;
    let mut extra = String::new();
    let mut y = vh + line;
    let mut x = 8.0 * scale;
    let title = figure
        .query_selector("figcaption .caption-title")?
        .or(figure.query_selector("figcaption")?)
        .and_then(|t| t.text_content())
        .unwrap_or_default();
    let legend = figure.query_selector_all("figcaption .key")?;
    let title = title.trim();
    if !title.is_empty() {
        extra.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{:.1}\" font-weight=\"600\" fill=\"{ink}\">{}</text>",
            font_px * 1.05,
            escape(title)
        ));
        y += line;
    }
    for i in 0..legend.length() {
        let Some(key) = legend.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let label = key.text_content().unwrap_or_default();
        let swatch = key
            .query_selector("i")?
            .and_then(|s| window.get_computed_style(&s).ok().flatten())
            .map(|s| {
                let c = s.get_property_value("background-color").unwrap_or_default();
                if c.is_empty() || c == "rgba(0, 0, 0, 0)" {
                    s.get_property_value("border-top-color").unwrap_or_default()
                } else {
                    c
                }
            })
            .unwrap_or_default();
        let width = (label.chars().count() as f64 * 6.8 + 28.0) * scale;
        if x + width > vw && x > 8.0 * scale {
            x = 8.0 * scale;
            y += line;
        }
        extra.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{:.1}\" fill=\"{swatch}\"/><text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"{font_px:.1}\" fill=\"{ink}\">{}</text>",
            y - 8.0 * scale,
            12.0 * scale,
            4.0 * scale,
            2.0 * scale,
            x + 16.0 * scale,
            escape(label.trim())
        ));
        x += width;
    }
    let total_h = if extra.is_empty() { vh } else { y + 0.6 * line };
    let out_h = total_h / scale;

    clone.set_attribute("xmlns", SVG_NS)?;
    clone.set_attribute("width", &format!("{w:.0}"))?;
    clone.set_attribute("height", &format!("{out_h:.0}"))?;
    clone.set_attribute("viewBox", &format!("0 0 {vw} {total_h}"))?;
    clone.set_attribute(
        "style",
        &format!("font-family:{font};color:{ink};background:{bg}"),
    )?;
    let _ = clone.remove_attribute("class");
    let backdrop = doc.create_element_ns(Some(SVG_NS), "rect")?;
    backdrop.set_attribute("width", "100%")?;
    backdrop.set_attribute("height", "100%")?;
    backdrop.set_attribute("fill", bg)?;
    clone.insert_before(&backdrop, clone.first_child().as_ref())?;
    if !extra.is_empty() {
        let g = doc.create_element_ns(Some(SVG_NS), "g")?;
        g.set_attribute("font-family", &font)?;
        g.set_inner_html(&extra);
        clone.append_child(&g)?;
    }
    let text = web_sys::XmlSerializer::new()?.serialize_to_string(&clone)?;
    Ok((
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{text}"),
        w,
        out_h,
    ))
}

fn view_box(svg: &Element) -> Option<(f64, f64)> {
    let vb = svg.get_attribute("viewBox")?;
    let v: Vec<f64> = vb
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    (v.len() == 4 && v[2] > 0.0 && v[3] > 0.0).then(|| (v[2], v[3]))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Copies each live element's computed SVG styles onto its clone, so CSS
/// classes and `var(--…)` colours survive outside the page.
fn inline_styles(window: &Window, live: &Element, clone: &Element) -> Result<(), JsValue> {
    let a = live.query_selector_all("*")?;
    let b = clone.query_selector_all("*")?;
    for i in 0..a.length().min(b.length()) {
        let (Some(src), Some(dst)) = (
            a.item(i).and_then(|n| n.dyn_into::<Element>().ok()),
            b.item(i).and_then(|n| n.dyn_into::<Element>().ok()),
        ) else {
            continue;
        };
        let Some(style) = window.get_computed_style(&src)? else {
            continue;
        };
        let text = src.local_name() == "text";
        let mut css = String::new();
        for p in STYLE_PROPS {
            if !text && p.starts_with("font") {
                continue;
            }
            let v = style.get_property_value(p)?;
            if !v.is_empty() {
                css.push_str(&format!("{p}:{v};"));
            }
            // Presentation attributes too, for renderers that ignore `style`.
            if dst.get_attribute(p).is_some_and(|a| a.contains("var(")) {
                dst.set_attribute(p, &v)?;
            }
        }
        dst.set_attribute("style", &css)?;
        let _ = dst.remove_attribute("class");
    }
    Ok(())
}

/// A copy of `canvas` over the page's background (a transparent canvas
/// would show black or white text on nothing).
fn flatten_canvas(
    doc: &Document,
    canvas: &HtmlCanvasElement,
    bg: &str,
) -> Result<HtmlCanvasElement, JsValue> {
    let out: HtmlCanvasElement = doc.create_element("canvas")?.dyn_into()?;
    out.set_width(canvas.width());
    out.set_height(canvas.height());
    let ctx = context_2d(&out)?;
    ctx.set_fill_style_str(bg);
    ctx.fill_rect(
        0.0,
        0.0,
        f64::from(canvas.width()),
        f64::from(canvas.height()),
    );
    ctx.draw_image_with_html_canvas_element(canvas, 0.0, 0.0)?;
    Ok(out)
}

fn context_2d(canvas: &HtmlCanvasElement) -> Result<web_sys::CanvasRenderingContext2d, JsValue> {
    super::charts::context_2d(canvas).ok_or_else(|| "no 2d context".into())
}

/// Draws the SVG into a canvas at twice its size and downloads it as PNG.
fn svg_to_png(
    doc: &Document,
    svg: &str,
    w: f64,
    h: f64,
    bg: &str,
    file: String,
) -> Result<(), JsValue> {
    let img = web_sys::HtmlImageElement::new()?;
    let canvas: HtmlCanvasElement = doc.create_element("canvas")?.dyn_into()?;
    let (cw, ch) = ((w * 2.0).round(), (h * 2.0).round());
    canvas.set_width(cw as u32);
    canvas.set_height(ch as u32);
    let ctx = context_2d(&canvas)?;
    let bg = bg.to_string();
    let img2 = img.clone();
    let onload = Closure::once_into_js(move || {
        ctx.set_fill_style_str(&bg);
        ctx.fill_rect(0.0, 0.0, cw, ch);
        let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(&img2, 0.0, 0.0, cw, ch);
        download_canvas(canvas, file);
    });
    img.set_onload(Some(onload.unchecked_ref()));
    let url = format!(
        "data:image/svg+xml;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(svg))
    );
    img.set_src(&url);
    Ok(())
}

fn download_canvas(canvas: HtmlCanvasElement, file: String) {
    let done = Closure::once_into_js(move |blob: Option<web_sys::Blob>| {
        if let (Some(blob), Some(doc)) = (blob, web_sys::window().and_then(|w| w.document())) {
            let _ = download_blob(&doc, &blob, &file);
        }
    });
    let _ = canvas.to_blob(done.unchecked_ref());
}

fn download_text(doc: &Document, text: &str, mime: &str, file: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    download_blob(doc, &blob, file)
}

fn download_blob(doc: &Document, blob: &web_sys::Blob, file: &str) -> Result<(), JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(file);
    a.set_attribute("style", "display:none")?;
    let body = doc.body().ok_or("no body")?;
    body.append_child(&a)?;
    a.click();
    a.remove();
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(10),
    );
    Ok(())
}
