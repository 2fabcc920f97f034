//! Config <-> query pairs: the one mechanism behind URL queries, embed
//! attributes and CLI flags, so every face validates the same way.
//!
//! An experiment declares its config with [`define_config!`]: each field has
//! a name (the URL key and the CLI flag), a default, a bound and a doc line.
//! Parsing is either *strict* (the CLI: the first bad value is an error) or
//! *lenient* (the page: bad values are clamped or replaced by the default,
//! and every fix is reported so the page can say what it changed).

use std::fmt;

/// A rejected or corrected value, naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A value that is out of its bound: the nearest allowed value if there is one.
pub struct Violation<T> {
    pub fixed: Option<T>,
    pub message: String,
}

/// A config field's value type.
pub trait Param: Sized + Clone {
    type Bound;
    /// Parses a query or flag value; `Err` says why in a few words.
    fn parse(text: &str) -> Result<Self, String>;
    /// The canonical text, which `parse` maps back to the same value.
    fn render(&self) -> String;
    /// Accepts an in-bound value, or says how it is out of bound.
    fn check(self, bound: &Self::Bound) -> Result<Self, Violation<Self>>;
    /// The bound in words, for `--help`.
    fn describe(bound: &Self::Bound) -> String;
    /// How a generic control edits it (a figure embed's `controls=`).
    fn input(_bound: &Self::Bound) -> FieldInput {
        FieldInput::Text
    }
}

/// The control a field gets where no widget draws its own (a figure
/// embed's control strip): a range, a choice, a switch, or text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FieldInput {
    /// A number in `[min, max]`; `integer` for whole numbers.
    Range { min: f64, max: f64, integer: bool },
    /// One of these values.
    Choice { options: Vec<&'static str> },
    /// true or false.
    Switch,
    /// Free text (lists such as `64,64`).
    Text,
}

/// An inclusive numeric range.
#[derive(Debug, Clone, Copy)]
pub struct Range<T> {
    pub min: T,
    pub max: T,
}

impl<T> Range<T> {
    pub const fn new(min: T, max: T) -> Self {
        Self { min, max }
    }
}

/// Shortens a hostile value before echoing it in a message.
pub fn echo(text: &str) -> String {
    const MAX: usize = 24;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    format!("{out:?}")
}

fn parse_finite(text: &str) -> Result<f64, String> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("{} is not a finite number", echo(t))),
        Err(_) => Err(format!("{} is not a number", echo(t))),
    }
}

fn check_range<T: PartialOrd + Copy + fmt::Display>(v: T, r: &Range<T>) -> Result<T, Violation<T>> {
    if v < r.min {
        Err(Violation {
            fixed: Some(r.min),
            message: format!("is below the minimum {}", r.min),
        })
    } else if v > r.max {
        Err(Violation {
            fixed: Some(r.max),
            message: format!("is above the maximum {}", r.max),
        })
    } else {
        Ok(v)
    }
}

impl Param for u32 {
    type Bound = Range<u32>;
    fn parse(text: &str) -> Result<Self, String> {
        // Accept "1e6" as well as "1000000"; reject fractions and non-finite values.
        let v = parse_finite(text)?;
        if v.fract() != 0.0 {
            return Err(format!("{} is not a whole number", echo(text.trim())));
        }
        if v < 0.0 {
            return Err(format!("{v} is negative"));
        }
        // Saturate: the range check then reports the value as too large.
        Ok(v.min(f64::from(u32::MAX)) as u32)
    }
    fn render(&self) -> String {
        self.to_string()
    }
    fn check(self, bound: &Range<u32>) -> Result<Self, Violation<Self>> {
        check_range(self, bound)
    }
    fn describe(bound: &Range<u32>) -> String {
        format!("integer in [{}, {}]", bound.min, bound.max)
    }
    fn input(bound: &Range<u32>) -> FieldInput {
        FieldInput::Range {
            min: f64::from(bound.min),
            max: f64::from(bound.max),
            integer: true,
        }
    }
}

impl Param for f64 {
    type Bound = Range<f64>;
    fn parse(text: &str) -> Result<Self, String> {
        parse_finite(text)
    }
    fn render(&self) -> String {
        self.to_string()
    }
    fn check(self, bound: &Range<f64>) -> Result<Self, Violation<Self>> {
        check_range(self, bound)
    }
    fn describe(bound: &Range<f64>) -> String {
        format!("number in [{}, {}]", bound.min, bound.max)
    }
    fn input(bound: &Range<f64>) -> FieldInput {
        FieldInput::Range {
            min: bound.min,
            max: bound.max,
            integer: false,
        }
    }
}

impl Param for bool {
    type Bound = ();
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(format!("{} is not true or false", echo(other))),
        }
    }
    fn render(&self) -> String {
        self.to_string()
    }
    fn check(self, _: &()) -> Result<Self, Violation<Self>> {
        Ok(self)
    }
    fn describe(_: &()) -> String {
        "true or false".into()
    }
    fn input(_: &()) -> FieldInput {
        FieldInput::Switch
    }
}

/// Bounds of a comma-separated list: its length and every element's range.
#[derive(Debug, Clone, Copy)]
pub struct ListBound<T> {
    pub min_len: usize,
    pub max_len: usize,
    pub each: Range<T>,
}

impl<T> Param for Vec<T>
where
    T: Param<Bound = Range<T>> + Copy + PartialOrd + fmt::Display,
{
    type Bound = ListBound<T>;
    fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        // Bounded before parsing, so a 10 kB value costs nothing.
        text.split(',').take(1024).map(T::parse).collect()
    }
    fn render(&self) -> String {
        self.iter()
            .map(|v| v.render())
            .collect::<Vec<_>>()
            .join(",")
    }
    fn check(self, b: &ListBound<T>) -> Result<Self, Violation<Self>> {
        if self.len() < b.min_len {
            return Err(Violation {
                fixed: None,
                message: format!("has {} values; needs at least {}", self.len(), b.min_len),
            });
        }
        let mut message = None;
        let mut fixed = self.clone();
        if fixed.len() > b.max_len {
            message = Some(format!(
                "has {} values; takes at most {}",
                self.len(),
                b.max_len
            ));
            fixed.truncate(b.max_len);
        }
        for v in fixed.iter_mut() {
            if let Err(e) = check_range(*v, &b.each) {
                message.get_or_insert(format!("has {v}, which {}", e.message));
                *v = e.fixed.unwrap_or(*v);
            }
        }
        match message {
            None => Ok(fixed),
            Some(message) => Err(Violation {
                fixed: Some(fixed),
                message,
            }),
        }
    }
    fn describe(b: &ListBound<T>) -> String {
        format!(
            "{} to {} comma-separated values in [{}, {}]",
            b.min_len, b.max_len, b.each.min, b.each.max
        )
    }
}

/// Declares a string-valued enum usable as a config field (bound: `()`).
#[macro_export]
macro_rules! param_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl $crate::experiments::config::Param for $name {
            type Bound = ();
            fn parse(text: &str) -> Result<Self, String> {
                match text.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "{} is not one of: {}",
                        $crate::experiments::config::echo(other),
                        [$($text),+].join(", ")
                    )),
                }
            }
            fn render(&self) -> String { self.as_str().to_string() }
            fn check(self, _: &()) -> Result<Self, $crate::experiments::config::Violation<Self>> { Ok(self) }
            fn describe(_: &()) -> String { format!("one of: {}", [$($text),+].join(", ")) }
            fn input(_: &()) -> $crate::experiments::config::FieldInput {
                $crate::experiments::config::FieldInput::Choice { options: vec![$($text),+] }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// One field of a config, described for `--help` and for documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub help: &'static str,
    pub default: String,
    pub bound: String,
    pub input: FieldInput,
}

/// A typed experiment config that maps to and from query pairs.
pub trait Config: Sized + Default + Clone + PartialEq {
    /// Every field, in declaration order.
    fn fields() -> Vec<FieldInfo>;
    /// Sets one field from text. Strict: any problem is an error and nothing
    /// changes. Lenient: a fixable value is fixed and set, and the problem is
    /// still returned so it can be shown.
    fn set(&mut self, key: &str, value: &str, strict: bool) -> Result<(), ConfigError>;
    /// Every field as (key, canonical text).
    fn to_pairs(&self) -> Vec<(&'static str, String)>;
    /// Fixes constraints between fields (e.g. two lists of equal length) and
    /// reports each fix; declared with `reconcile = path;` in [`define_config!`].
    fn reconcile(&mut self) -> Vec<ConfigError>;

    /// Parses pairs for the CLI: the first bad key or value is the error.
    fn from_pairs_strict<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut cfg = Self::default();
        // A set, not a list: a link with 10,000 distinct keys stays linear.
        let mut seen = std::collections::HashSet::new();
        for (k, v) in pairs {
            let canonical = canonical_key(k);
            if seen.contains(&canonical) {
                return Err(ConfigError {
                    field: k.to_string(),
                    message: "given more than once".into(),
                });
            }
            seen.insert(canonical);
            cfg.set(k, v, true)?;
        }
        match cfg.reconcile().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(cfg),
        }
    }

    /// Parses pairs for the page: always yields a valid config, and lists
    /// every value it had to clamp, replace or ignore.
    fn from_pairs_lenient<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (Self, Vec<ConfigError>) {
        let mut cfg = Self::default();
        let mut notes = Vec::new();
        // A set, not a list: a link with 10,000 distinct keys stays linear.
        let mut seen = std::collections::HashSet::new();
        for (k, v) in pairs {
            let canonical = canonical_key(k);
            if seen.contains(&canonical) {
                notes.push(ConfigError {
                    field: k.to_string(),
                    message: "given more than once; the last value is used".into(),
                });
            } else {
                seen.insert(canonical);
            }
            if let Err(e) = cfg.set(k, v, false) {
                notes.push(e);
            }
        }
        notes.extend(cfg.reconcile());
        (cfg, notes)
    }

    /// The config as a URL query string (without `?`), every field included.
    fn to_query(&self) -> String {
        self.to_pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode_query_value(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query key or value, leaving unreserved characters and
/// commas as they are, so lists stay readable in shared links (`logits=1,2,3`).
pub fn encode_query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Applies one text value to a typed field; shared by the generated `set`.
pub fn set_field<T: Param>(
    slot: &mut T,
    default: T,
    key: &str,
    value: &str,
    bound: &T::Bound,
    strict: bool,
) -> Result<(), ConfigError> {
    let err = |message: String| ConfigError {
        field: key.to_string(),
        message,
    };
    match T::parse(value) {
        Err(why) => {
            if !strict {
                *slot = default.clone();
                return Err(err(format!(
                    "{why}; using the default {}",
                    default.render()
                )));
            }
            Err(err(why))
        }
        Ok(v) => match v.check(bound) {
            Ok(v) => {
                *slot = v;
                Ok(())
            }
            Err(Violation { fixed, message }) => {
                let message = format!("{} {message}", echo(value.trim()));
                if strict {
                    return Err(err(message));
                }
                match fixed {
                    Some(f) => {
                        let shown = f.render();
                        *slot = f;
                        Err(err(format!("{message}; using {shown}")))
                    }
                    None => {
                        *slot = default.clone();
                        Err(err(format!(
                            "{message}; using the default {}",
                            default.render()
                        )))
                    }
                }
            }
        },
    }
}

/// `name` with every `_` as `-`, at compile time: URL keys and CLI flags are
/// kebab-case (`tau-min`), field names snake_case (`tau_min`).
pub const fn kebab_bytes<const N: usize>(name: &str) -> [u8; N] {
    let b = name.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if b[i] == b'_' { b'-' } else { b[i] };
        i += 1;
    }
    out
}

/// The canonical spelling of a key as given: the old underscore spellings of
/// links shared before keys became kebab-case still name the same field.
pub fn canonical_key(key: &str) -> std::borrow::Cow<'_, str> {
    if key.contains('_') {
        key.replace('_', "-").into()
    } else {
        key.into()
    }
}

/// A field's URL key and CLI flag: its name in kebab-case, as a `&'static str`.
#[doc(hidden)]
#[macro_export]
macro_rules! config_key {
    ($field:ident) => {{
        const NAME: &str = stringify!($field);
        const BYTES: [u8; NAME.len()] = $crate::experiments::config::kebab_bytes(NAME);
        const KEY: &str = match ::core::str::from_utf8(&BYTES) {
            Ok(k) => k,
            Err(_) => panic!("field names are ASCII"),
        };
        KEY
    }};
}

/// Declares an experiment config: a struct, its defaults and its [`Config`] impl.
/// Each field's URL key and CLI flag is its name in kebab-case (`tau_min` is
/// `tau-min`); the underscore spelling is accepted as an alias.
///
/// ```text
/// define_config! {
///     /// What the config is for.
///     pub struct RngConfig {
///         /// Seed of the generator.
///         seed: u32 = 1, Range::new(0, u32::MAX);
///     }
/// }
/// ```
#[macro_export]
macro_rules! define_config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                #[doc = $help:literal]
                $field:ident : $ty:ty = $default:expr, $bound:expr;
            )+
        }
        $(reconcile = $reconcile:path;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct $name {
            $(#[doc = $help] pub $field: $ty,)+
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $($field: $default,)+ }
            }
        }

        impl $crate::experiments::config::Config for $name {
            fn fields() -> Vec<$crate::experiments::config::FieldInfo> {
                use $crate::experiments::config::Param;
                vec![$($crate::experiments::config::FieldInfo {
                    name: $crate::config_key!($field),
                    help: $help.trim(),
                    default: {
                        let d: $ty = $default;
                        d.render()
                    },
                    bound: <$ty as Param>::describe(&$bound),
                    input: <$ty as Param>::input(&$bound),
                },)+]
            }

            fn set(&mut self, key: &str, value: &str, strict: bool)
                -> Result<(), $crate::experiments::config::ConfigError>
            {
                match &*$crate::experiments::config::canonical_key(key) {
                    $(k if k == $crate::config_key!($field) => $crate::experiments::config::set_field(
                        &mut self.$field, $default, key, value, &$bound, strict),)+
                    _ => Err($crate::experiments::config::ConfigError {
                        field: $crate::experiments::config::echo(key).trim_matches('"').to_string(),
                        message: format!(
                            "unknown key (expected one of: {})",
                            [$($crate::config_key!($field)),+].join(", ")
                        ),
                    }),
                }
            }

            fn to_pairs(&self) -> Vec<(&'static str, String)> {
                use $crate::experiments::config::Param;
                vec![$(($crate::config_key!($field), self.$field.render()),)+]
            }

            fn reconcile(&mut self) -> Vec<$crate::experiments::config::ConfigError> {
                $(return $reconcile(self);)?
                #[allow(unreachable_code)]
                Vec::new()
            }
        }
    };
}
