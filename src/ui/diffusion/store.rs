//! Where the reader's drawing lives: one versioned document in the browser's
//! local storage, changed in place (never rebuilt from a stale copy), shared
//! with the site's other tabs through `storage` events, with one undo for
//! replacing actions and a few kept slots for documents that could not be read.

use std::collections::HashSet;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use web_sys::Storage;

use crate::experiments::diffusion::{Drawing, MAX_DRAWN_POINTS, sanitize_drawn};

/// Every local-storage key the widget uses, in one place: the drawing's, and
/// the ones derived from it. (The only place to change to scope them.)
/// Every key is scoped by the site's base path (`ui::storage_key`), so two
/// sites on one origin keep separate drawings.
mod keys {
    use crate::ui::storage_key;

    /// The reader's drawing (versioned).
    pub const DRAWING: &str = "gradlab.diffusion.drawing.v1";

    pub fn drawing() -> String {
        storage_key(DRAWING)
    }

    /// The drawing one undo restores, and the action it undoes.
    pub fn previous() -> String {
        storage_key(&format!("{DRAWING}.previous"))
    }

    /// Kept copy `slot` (1-based) of a stored drawing that could not be read.
    pub fn unreadable(slot: usize) -> String {
        if slot == 1 {
            storage_key(&format!("{DRAWING}.unreadable"))
        } else {
            storage_key(&format!("{DRAWING}.unreadable.{slot}"))
        }
    }
}

/// How many unreadable drawings are kept; a further one is never written
/// over them (the note says so, and the drawing is not stored over it).
pub(super) const UNREADABLE_SLOTS: usize = 5;

fn local_storage() -> Option<Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// `n` with a comma every three digits (4,096).
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Keeps an unreadable stored text in the first free slot (or the slot that
/// already holds it); never writes over another kept copy. Returns its key.
fn keep_unreadable(storage: &Storage, text: &str) -> Result<String, String> {
    for slot in 1..=UNREADABLE_SLOTS {
        let key = keys::unreadable(slot);
        match storage.get_item(&key).ok().flatten() {
            Some(kept) if kept == text => return Ok(key),
            Some(_) => {}
            None => {
                return storage.set_item(&key, text).map(|()| key).map_err(|_| {
                    "the browser refused to keep a copy of it (storage full?)".to_string()
                });
            }
        }
    }
    Err(format!(
        "{UNREADABLE_SLOTS} unreadable drawings are already kept (under \"{}\" to \"{}\"), so this one was not; it stays under \"{}\", and your drawing is not stored over it until you remove one of them",
        keys::unreadable(1),
        keys::unreadable(UNREADABLE_SLOTS),
        keys::drawing(),
    ))
}

/// The stored drawing (empty when there is none), and a note when it could
/// not be read whole.
fn read_drawing() -> (Drawing, Option<String>) {
    let storage = local_storage();
    let Some(text) = storage
        .as_ref()
        .and_then(|s| s.get_item(&keys::drawing()).ok().flatten())
    else {
        return (Drawing::new(Vec::new()), None);
    };
    match Drawing::parse(&text) {
        Ok((d, 0)) => (d, None),
        Ok((d, dropped)) => (
            d,
            Some(format!(
                "{dropped} stored points were outside the canvas or beyond the {} points a drawing holds, and were left out.",
                thousands(MAX_DRAWN_POINTS)
            )),
        ),
        Err(e) => {
            // Keep the unreadable text where the reader can still recover it.
            let kept = storage
                .ok_or_else(|| "no storage".to_string())
                .and_then(|s| keep_unreadable(&s, &text));
            let note = match kept {
                Ok(key) => format!(
                    "Your stored drawing could not be read ({e}); it was kept under \"{key}\"."
                ),
                Err(why) => format!("Your stored drawing could not be read ({e}); {why}."),
            };
            (Drawing::new(Vec::new()), Some(note))
        }
    }
}

/// The stored drawing, when there is one and it can be read.
fn stored_drawing() -> Option<Drawing> {
    let text = local_storage()?.get_item(&keys::drawing()).ok().flatten()?;
    Drawing::parse(&text).ok().map(|(d, _)| d)
}

/// Stores the drawing; the error says why it could not be. An unreadable
/// stored drawing is kept in a slot first, and never written over when it
/// cannot be kept.
fn write_drawing(d: &Drawing) -> Result<(), String> {
    let storage =
        local_storage().ok_or("this browser gives the page no local storage (is it disabled?)")?;
    if let Some(old) = storage.get_item(&keys::drawing()).ok().flatten()
        && Drawing::parse(&old).is_err()
    {
        keep_unreadable(&storage, &old)
            .map_err(|why| format!("the stored drawing could not be read and {why}"))?;
    }
    storage
        .set_item(&keys::drawing(), &d.to_json())
        .map_err(|_| "the browser refused to store the drawing (storage full?)".to_string())
}

/// What one undo restores: the drawing a replacing action (an import, a
/// clear, an undo) wrote over, and which action that was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Undo {
    pub action: String,
    pub drawing: Drawing,
}

impl Undo {
    /// The button's label.
    pub fn label(&self) -> &'static str {
        match self.action.as_str() {
            "import" => "Undo import",
            "clear" => "Undo clear",
            "undo" => "Redo",
            _ => "Undo",
        }
    }
}

fn read_undo() -> Option<Undo> {
    let text = local_storage()?
        .get_item(&keys::previous())
        .ok()
        .flatten()?;
    let u: Undo = serde_json::from_str(&text).ok()?;
    // Checked as a stored drawing is.
    let (drawing, _) = Drawing::parse(&u.drawing.to_json()).ok()?;
    Some(Undo { drawing, ..u })
}

/// A drawing written in another tab, merged with this tab's unsaved one:
/// theirs, then those of mine they lack (at most the cap), their mixture
/// when they have one. Linear in the points.
fn merge(mine: &Drawing, theirs: Drawing) -> Drawing {
    let key = |p: &[f32; 2]| (p[0].to_bits(), p[1].to_bits());
    let seen: HashSet<(u32, u32)> = theirs.points.iter().map(key).collect();
    let mut points = theirs.points;
    points.extend(mine.points.iter().filter(|p| !seen.contains(&key(p))));
    let (points, _) = sanitize_drawn(&points);
    Drawing {
        points,
        mixture: theirs.mixture.or_else(|| mine.mixture.clone()),
        ..Drawing::new(Vec::new())
    }
}

/// The reader's drawing in this page, and its place in storage.
#[derive(Clone, Copy)]
pub(super) struct DrawingStore {
    pub drawing: RwSignal<Drawing>,
    /// What the reader should know about it (a read, a write, an import).
    pub note: RwSignal<Option<String>>,
    /// False while the drawing in this page is ahead of storage (the last
    /// write failed): the note then offers the export.
    pub saved: RwSignal<bool>,
    /// What one undo restores.
    pub undo: RwSignal<Option<Undo>>,
}

impl DrawingStore {
    /// Reads the stored drawing and follows what other tabs write.
    pub fn open() -> Self {
        let (drawing, note) = read_drawing();
        let store = Self {
            drawing: RwSignal::new(drawing),
            note: RwSignal::new(note),
            saved: RwSignal::new(true),
            undo: RwSignal::new(read_undo()),
        };
        let handle = window_event_listener(leptos::ev::storage, move |e| {
            store.on_storage(e.key(), e.new_value());
        });
        on_cleanup(move || handle.remove());
        store
    }

    /// Another tab wrote (or removed) a key; `None` is a `clear()`.
    fn on_storage(self, key: Option<String>, value: Option<String>) {
        if key.as_ref().is_none_or(|k| *k == keys::previous()) {
            self.undo.set(read_undo());
        }
        if key.as_ref().is_some_and(|k| *k != keys::drawing()) {
            return;
        }
        let theirs = match value.as_deref().map(Drawing::parse) {
            Some(Ok((d, _))) => d,
            // Removed there: this page shows what storage holds, nothing.
            None if self.saved.get_untracked() => Drawing::new(Vec::new()),
            // Unreadable (another build?) or removed while this page is
            // unsaved: keep this page's drawing; the next write keeps theirs.
            _ => return,
        };
        if self.saved.get_untracked() {
            self.drawing.set(theirs);
        } else {
            // This page has points storage lacks: keep both, and try again.
            let d = merge(&self.drawing.get_untracked(), theirs);
            self.finish(d, None);
        }
    }

    /// Changes the drawing in place: the edit applies to the stored
    /// document as it is now (other tabs' strokes included), or to this
    /// page's while storage is behind. The edit may return a note.
    pub fn change(self, edit: impl FnOnce(&mut Drawing) -> Option<String>) {
        let mut d = self
            .saved
            .get_untracked()
            .then(stored_drawing)
            .flatten()
            .unwrap_or_else(|| self.drawing.get_untracked());
        let note = edit(&mut d);
        self.finish(d, note);
    }

    /// Replaces the whole drawing (an import, a clear, an undo), keeping the
    /// one it replaces for one undo.
    pub fn replace(self, action: &str, d: Drawing, note: Option<String>) {
        let before = self
            .saved
            .get_untracked()
            .then(stored_drawing)
            .flatten()
            .unwrap_or_else(|| self.drawing.get_untracked());
        let undo = Undo {
            action: action.to_string(),
            drawing: before,
        };
        if let Some(s) = local_storage() {
            let text = serde_json::to_string(&undo).expect("undo serialises");
            // Kept in this page when storage refuses it.
            let _ = s.set_item(&keys::previous(), &text);
        }
        self.undo.set(Some(undo));
        self.finish(d, note);
    }

    /// Restores what the undo slot holds; what it replaces takes its place
    /// (so a mistaken undo is one click from undone too).
    pub fn undo(self) -> Option<Drawing> {
        let u = self.undo.get_untracked()?;
        let redo = if u.action == "undo" { "redo" } else { "undo" };
        self.replace(redo, u.drawing.clone(), None);
        Some(u.drawing)
    }

    /// Writes `d`, shows it, and says what went wrong with the write.
    fn finish(self, d: Drawing, note: Option<String>) {
        let written = write_drawing(&d);
        self.saved.set(written.is_ok());
        let unsaved = written
            .err()
            .map(|w| format!("Your drawing is not stored: {w}."));
        let note = match (note, unsaved) {
            (Some(n), Some(w)) => Some(format!("{n} {w}")),
            (n, w) => n.or(w),
        };
        self.note.set(note);
        self.drawing.set(d);
    }
}
