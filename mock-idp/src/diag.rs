//! Diagnostics that point at the text of an input file: `file:line:col`, the line, a
//! caret under the span, and a "did you mean" where one helps (as hurl does).

use std::fmt;
use std::ops::Range;

/// An error located in an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file's name as the user gave it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong: what was expected and what was found.
    pub message: String,
    /// The text of the offending line.
    pub source_line: String,
    /// How many characters the caret underlines (at least one).
    pub width: usize,
    /// A suggestion, such as the field name that was probably meant.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Builds a diagnostic for byte range `span` of `text` (clamped to the text).
    pub fn at(file: &str, text: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[..start].matches('\n').count() + 1;
        let col = text[line_start..start].chars().count() + 1;
        let width = text[start..end.min(line_end)].chars().count().max(1);
        Self {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
            source_line: text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
            width,
            help: None,
        }
    }

    /// A diagnostic for the value at `path` (table keys and array indices) of TOML `text`
    /// (the start of the file when the path is not found).
    pub fn at_path(file: &str, text: &str, path: &[String], message: impl Into<String>) -> Self {
        Self::at(
            file,
            text,
            span_of_path(text, path).unwrap_or(0..0),
            message,
        )
    }

    /// A diagnostic for a TOML parse or deserialization error, with a "did you mean" for
    /// unknown fields and variants.
    pub fn from_toml(file: &str, text: &str, e: &toml::de::Error) -> Self {
        let message = e.message().trim().to_string();
        let help = unknown_name_help(&message);
        let d = Self::at(file, text, e.span().unwrap_or(0..0), message);
        match help {
            Some(h) => d.with_help(h),
            None => d,
        }
    }

    /// Adds a suggestion.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The largest input file read (tenants, scenarios, profiles, reports).
pub const MAX_INPUT_BYTES: u64 = 10 * 1024 * 1024;

/// Reads an input file: a regular file (not a FIFO or a device, which could block or
/// never end) of at most [`MAX_INPUT_BYTES`], as UTF-8.
pub fn read_input(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (expected a file, not a folder, a FIFO or a device)",
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{} bytes is too large (at most {MAX_INPUT_BYTES})",
                meta.len()
            ),
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)?;
    Ok(text)
}

/// How much of a long line (or message) a diagnostic shows, in characters.
const SHOWN: usize = 160;

/// `s` cut to `max` characters, with `…` where it was cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.file,
            self.line,
            self.col,
            cut(&self.message, 4 * SHOWN)
        )?;
        writeln!(f, "{pad} |")?;
        // A long line (minified, deeply nested) shows a window around the column.
        let chars: Vec<char> = self.source_line.chars().collect();
        let start = (self.col - 1).saturating_sub(SHOWN / 2).min(chars.len());
        let end = (start + SHOWN).min(chars.len());
        let window: String = chars[start..end].iter().collect();
        let before = if start > 0 { "…" } else { "" };
        let after = if end < chars.len() { "…" } else { "" };
        writeln!(f, "{num} | {before}{window}{after}")?;
        let caret_at = self.col - 1 - start + before.chars().count();
        let width = self.width.min(end.saturating_sub(self.col - 1).max(1));
        write!(f, "{pad} | {}{}", " ".repeat(caret_at), "^".repeat(width))?;
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// serde's "unknown field `x`, expected one of `a`, `b`" (or variant): the closest name.
fn unknown_name_help(message: &str) -> Option<String> {
    for prefix in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (word, rest) = rest.split_once('`')?;
            let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
            return did_you_mean(word, candidates.iter().copied())
                .map(|m| format!("did you mean `{m}`?"));
        }
    }
    None
}

/// The byte span of the value at `path` (table keys and array indices) in TOML `text`.
pub fn span_of_path(text: &str, path: &[String]) -> Option<Range<usize>> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut span = root.span();
    let mut table = Some(root.get_ref().clone());
    let mut value: Option<DeValue> = None;
    for seg in path {
        if let Some(t) = table.take() {
            let (_, v) = t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == seg.as_str())?;
            span = v.span();
            value = Some(v.get_ref().clone());
        } else if let Some(DeValue::Array(items)) = value.take() {
            let idx: usize = seg.parse().ok()?;
            let v = items.get(idx)?;
            span = v.span();
            value = Some(v.get_ref().clone());
        } else {
            return None;
        }
        if let Some(DeValue::Table(t)) = &value {
            table = Some(t.clone());
        }
    }
    Some(span)
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// two neighbours each cost one (so `titel` is one step from `title`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_column() {
        let text = "a = 1\nredirect_uri = \"x\"\n";
        let d = Diagnostic::at("t.toml", text, 6..18, "unknown field `redirect_uri`")
            .with_help("did you mean `redirect_uris`?");
        assert_eq!((d.line, d.col, d.width), (2, 1, 12));
        assert_eq!(
            d.to_string(),
            "t.toml:2:1: unknown field `redirect_uri`\n  |\n2 | redirect_uri = \"x\"\n  | ^^^^^^^^^^^^\n  = help: did you mean `redirect_uris`?"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["redirect_uris", "client_id", "grant_types"];
        assert_eq!(did_you_mean("redirect_uri", names), Some("redirect_uris"));
        assert_eq!(did_you_mean("grant_type", names), Some("grant_types"));
        assert_eq!(did_you_mean("banana", names), None);
        assert_eq!(did_you_mean("titel", ["title", "suite"]), Some("title"));
    }
}
