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
        let mut d = Diagnostic {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message,
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
            let text = source[line_start..line_end]
                .trim_end_matches('\r')
                .to_string();
            let end = span.end.clamp(start, line_end.max(start));
            let width = source[start..end].chars().count().max(1);
            let caret = format!("{}{}", " ".repeat(col - 1), "^".repeat(width));
            d.line = Some(line_no);
            d.column = Some(col);
            d.snippet = Some((text, caret));
        }
        ScenarioError::Invalid(Box::new(d))
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Io { path, reason } => {
                write!(f, "cannot read scenario {}: {reason}", path.display())
            }
            ScenarioError::Invalid(d) => {
                write!(f, "{}", d.file.display())?;
                if let (Some(l), Some(c)) = (d.line, d.column) {
                    write!(f, ":{l}:{c}")?;
                }
                write!(f, ": {}", d.message)?;
                if let (Some((text, caret)), Some(l)) = (&d.snippet, d.line) {
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
}
