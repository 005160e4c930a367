//! Scenario errors: every one names the file, the line and column, the
//! field and what is wrong, with the offending text underlined.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem with a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioError {
    /// The file could not be read.
    Io { path: PathBuf, reason: String },
    /// The file was read but is not a valid scenario.
    Invalid(Box<Diagnostic>),
}

/// A located, rendered complaint about a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line and column of the start of the bad text, if known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// The source line and a caret line under the bad text.
    pub snippet: Option<(String, String)>,
}

impl ScenarioError {
    /// Builds an error for `span` of `source` in `file`.
    pub fn at(file: &Path, source: &str, span: Option<Range<usize>>, message: String) -> Self {
        ScenarioError::Invalid(Box::new(Diagnostic::at(file, source, span, message)))
    }
}

impl Diagnostic {
    /// Locates and renders `message` about `span` of `source` in `file`.
    pub fn at(file: &Path, source: &str, span: Option<Range<usize>>, message: String) -> Self {
        let mut d = Diagnostic {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: shorten_quotes(&message),
            snippet: None,
        };
        if let Some(span) = span {
            let start = span.start.min(source.len());
            let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[start..]
                .find('\n')
                .map_or(source.len(), |i| start + i);
            let line_no = source[..start].matches('\n').count() + 1;
            let col = source[line_start..start].chars().count() + 1;
            let text = source[line_start..line_end].trim_end_matches('\r');
            let end = span.end.clamp(start, line_end.max(start));
            let width = source[start..end].chars().count().max(1);
            d.line = Some(line_no);
            d.column = Some(col);
            d.snippet = Some(snippet(text, col - 1, width));
        }
        d
    }
}

/// The longest quoted text a message repeats whole; a longer one (a
/// 40 KB string value) is cut in the middle.
const MAX_QUOTED: usize = 60;

/// `message` with every over-long `"..."` or `` `...` `` cut to its first
/// and last characters around a `…`.
fn shorten_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().expect("found");
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find(quote) else {
            break;
        };
        let inner = &rest[..close];
        let n = inner.chars().count();
        if n > MAX_QUOTED {
            out.extend(inner.chars().take(MAX_QUOTED - 20));
            out.push('…');
            out.extend(inner.chars().skip(n - 19));
        } else {
            out.push_str(inner);
        }
        out.push(quote);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Spaces a tab is shown as in an echoed line (as rustc does), so that the
/// caret line, which holds only spaces, lines up with it in any terminal.
const TAB_WIDTH: usize = 4;

/// The widest echoed line, in columns; a longer one is shown as a window
/// around the bad text.
const MAX_SHOWN: usize = 100;

/// How many columns a window shows before the bad text.
const SHOWN_BEFORE: usize = 40;

/// The echoed line and the caret line under `width` characters from
/// character `start` of `line`: tabs expanded, and a long line cut to a
/// window around the bad text with `…` where it was cut.
fn snippet(line: &str, start: usize, width: usize) -> (String, String) {
    let mut cells: Vec<char> = Vec::with_capacity(line.len());
    // Display column of each character, and of the end of the line.
    let mut at: Vec<usize> = Vec::with_capacity(line.len() + 1);
    for c in line.chars() {
        at.push(cells.len());
        if c == '\t' {
            cells.extend(std::iter::repeat_n(' ', TAB_WIDTH));
        } else {
            cells.push(c);
        }
    }
    at.push(cells.len());
    let first = at[start.min(at.len() - 1)];
    let last = at[(start + width).min(at.len() - 1)].max(first + 1);
    let (mut lo, mut hi) = (0, cells.len());
    if cells.len() > MAX_SHOWN {
        lo = first.saturating_sub(SHOWN_BEFORE);
        hi = (lo + MAX_SHOWN).min(cells.len());
        lo = hi.saturating_sub(MAX_SHOWN).min(lo);
    }
    let mut text: String = cells[lo..hi].iter().collect();
    let mut pad = first - lo;
    if lo > 0 {
        text.insert(0, '…');
        pad += 1;
    }
    if hi < cells.len() {
        text.push('…');
    }
    let carets = last.min(hi.max(first + 1)) - first;
    let caret = format!("{}{}", " ".repeat(pad), "^".repeat(carets));
    (text, caret)
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Io { path, reason } => {
                write!(f, "cannot read scenario {}: {reason}", path.display())
            }
            ScenarioError::Invalid(d) => d.fmt(f),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: message`, then the line and a caret under the text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.message)?;
        if let (Some((text, caret)), Some(l)) = (&self.snippet, self.line) {
            let gutter = l.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{l} | {text}\n{:gutter$} | {caret}",
                "", ""
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_and_caret() {
        let src = "a = 1\nloss = 1.5\n";
        let e = ScenarioError::at(Path::new("x.toml"), src, Some(13..16), "bad".into());
        assert_eq!(
            e.to_string(),
            "x.toml:2:8: bad\n  |\n2 | loss = 1.5\n  |        ^^^"
        );
    }

    /// The echoed line and the caret line of an error at `needle`.
    fn shown(src: &str, needle: &str) -> (String, String) {
        let start = src.find(needle).unwrap();
        match ScenarioError::at(
            Path::new("x.toml"),
            src,
            Some(start..start + needle.len()),
            "bad".into(),
        ) {
            ScenarioError::Invalid(d) => d.snippet.unwrap(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn the_caret_sits_under_the_bad_text_on_a_line_with_tabs() {
        let (text, caret) = shown("a = 1\n\tbogus\t=\t3\n", "3");
        assert_eq!(text, "    bogus    =    3");
        assert_eq!(caret, "                  ^");
        assert_eq!(text.find('3'), caret.find('^'));
    }

    #[test]
    fn a_long_quoted_value_is_cut_in_the_middle_of_the_message() {
        let long = "x".repeat(40_000);
        let short = shorten_quotes(&format!("unknown unit \"{long}\" in `a`, see \"b\""));
        assert!(short.len() < 100, "{short}");
        assert!(short.starts_with("unknown unit \"xxx"), "{short}");
        assert!(short.ends_with("xx\" in `a`, see \"b\""), "{short}");
        assert_eq!(shorten_quotes("`a` and \"b"), "`a` and \"b");
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_bad_text() {
        let ones = "1, ".repeat(7_000);
        let line = format!("seeds = [{ones}99x, {ones}1]");
        let (text, caret) = shown(&line, "99x");
        assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
        assert!(text.chars().count() <= MAX_SHOWN + 2, "{text}");
        let at = caret.find('^').unwrap();
        let under: String = text.chars().skip(at).take(3).collect();
        assert_eq!(under, "99x", "{text}\n{caret}");
        assert_eq!(caret.trim(), "^^^");
        // The start of a long line is shown without a leading mark.
        let (text, caret) = shown(&line, "seeds");
        assert!(text.starts_with("seeds = [1, ") && text.ends_with('…'));
        assert_eq!(caret, "^^^^^");
    }
}
