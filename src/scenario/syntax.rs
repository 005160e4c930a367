//! TOML syntax and type errors in words a scenario author reads: the
//! parser's and serde's messages, reworded and, for an unclosed bracket,
//! moved to the bracket that is not closed.

use std::ops::Range;

/// The largest and smallest integers TOML holds.
const INT_RANGE: &str = "-9223372036854775808 to 9223372036854775807";

/// Rewords a TOML error at `span` of `text`; returns where to point and
/// what to say.
pub(super) fn explain(
    text: &str,
    span: Option<Range<usize>>,
    message: &str,
) -> (Option<Range<usize>>, String) {
    let message = message.trim_end();
    let Some(span) = span else {
        return (None, reword_types(message));
    };
    let at = span.start.min(text.len());
    let scan = Scan::upto(text, at);
    if let Some(found) = unclosed(text, &scan, at, message) {
        return found;
    }
    if message == "duplicate key" {
        return (Some(span.clone()), duplicate(text, &scan, span));
    }
    (Some(span), reword_types(message))
}

/// serde's Rust type names as a scenario author knows them.
fn reword_types(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: integer `") {
        if let Some((number, _)) = rest.split_once("` as i128") {
            return format!("integer {number} is out of range: TOML integers run from {INT_RANGE}");
        }
    }
    let mut m = message.to_string();
    for (rust, words) in [
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected i64", "expected a whole number"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected u32", "expected a whole number >= 0"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
        ("expected any valid TOML value", "expected a value"),
    ] {
        if let Some(head) = m.strip_suffix(rust) {
            m = format!("{head}{words}");
        }
    }
    if let Some((head, _)) = m.split_once("expected struct Raw") {
        m = format!("{head}expected a table");
    }
    m
}

/// Where brackets stand at one point of the text.
struct Scan {
    /// Brackets opened and not yet closed: the character and its offset.
    open: Vec<(char, usize)>,
    /// Every table header before the point: its text (`[network]`) and
    /// offset.
    headers: Vec<(String, usize)>,
}

impl Scan {
    /// Reads `text` up to offset `end`, skipping strings and comments.
    fn upto(text: &str, end: usize) -> Scan {
        let mut open: Vec<(char, usize)> = Vec::new();
        let mut headers = Vec::new();
        let mut line_start = true;
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < end {
            let c = bytes[i];
            match c {
                b'\n' => {
                    line_start = true;
                    i += 1;
                    continue;
                }
                b'#' => {
                    i += text[i..].find('\n').unwrap_or(text.len() - i);
                    continue;
                }
                b'"' | b'\'' => {
                    i = skip_string(text, i);
                    line_start = false;
                    continue;
                }
                b'[' if line_start && open.is_empty() => {
                    let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                    let line = &text[i..line_end];
                    let header = line.split('#').next().unwrap_or(line).trim_end();
                    headers.push((header.to_string(), i));
                    i = line_end;
                    continue;
                }
                b'{' | b'[' => open.push((c as char, i)),
                b'}' | b']' => {
                    open.pop();
                }
                _ => {}
            }
            if !c.is_ascii_whitespace() {
                line_start = false;
            }
            i += 1;
        }
        Scan { open, headers }
    }
}

/// The offset just past the string that starts at `i`.
fn skip_string(text: &str, i: usize) -> usize {
    let q = &text[i..i + 1];
    let triple = q.repeat(3);
    if text[i..].starts_with(&triple) {
        return text[i + 3..]
            .find(&triple)
            .map_or(text.len(), |n| i + 3 + n + 3);
    }
    let bytes = text.as_bytes();
    let mut j = i + 1;
    while j < text.len() && bytes[j] != b'\n' {
        if bytes[j] == b'\\' && q == "\"" {
            j += 2;
            continue;
        }
        if bytes[j] == q.as_bytes()[0] {
            return j + 1;
        }
        j += 1;
    }
    j.min(text.len())
}

/// 1-based line of offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The error of a bracket left open, moved to that bracket, if the
/// parser's complaint comes from one.
fn unclosed(
    text: &str,
    scan: &Scan,
    at: usize,
    message: &str,
) -> Option<(Option<Range<usize>>, String)> {
    let &(bracket, offset) = scan.open.last()?;
    let (here, there) = (line_of(text, offset), line_of(text, at));
    let line = text[at..].split('\n').next().unwrap_or("").trim_start();
    let next_item = line.starts_with('[')
        || line.is_empty()
        || line
            .split_once('=')
            .is_some_and(|(k, _)| !k.trim().is_empty() && !k.contains([',', '{', '[', '"']));
    let span = Some(offset..offset + 1);
    match bracket {
        '{' if message.contains("inline table") || message.contains("key-value pairs") => {
            if there == here {
                return Some((
                    span,
                    "unclosed inline table: this `{` has no matching `}`".into(),
                ));
            }
            Some((
                span,
                format!(
                    "unclosed inline table: this `{{` is not closed on its line, so line {there} \
                     was read as part of it ({message}); add the `}}`"
                ),
            ))
        }
        '[' if message.contains("array") && (there > here && next_item || at >= text.len()) => {
            Some((
                span,
                format!("unclosed array: this `[` has no matching `]` before line {there}"),
            ))
        }
        _ => None,
    }
}

/// "duplicate key", with the key, its table and where it was first set.
fn duplicate(text: &str, scan: &Scan, span: Range<usize>) -> String {
    let key = text[span.clone()].trim();
    let is_header = text[..span.start].trim_end().ends_with('[');
    if is_header {
        let first = scan
            .headers
            .iter()
            .find(|(h, _)| h.trim_matches(['[', ']']).trim() == key)
            .map(|(_, at)| format!("; it is first defined on line {}", line_of(text, *at)))
            .unwrap_or_default();
        return format!("table [{key}] is defined twice{first}");
    }
    let (region, from) = match (scan.open.last(), scan.headers.last()) {
        (Some(&('{', at)), _) => (
            format!("the inline table opened on line {}", line_of(text, at)),
            at,
        ),
        (_, Some((h, at))) => (h.clone(), *at),
        (None, None) | (Some(_), None) => ("the top level of the file".into(), 0),
    };
    let first = first_set(text, from..span.start, key)
        .map(|at| format!("; it is first set on line {}", line_of(text, at)))
        .unwrap_or_default();
    format!("duplicate key `{key}` in {region}{first}")
}

/// The offset of the first `key =` in `range` of `text`.
fn first_set(text: &str, range: Range<usize>, key: &str) -> Option<usize> {
    let part = &text[range.clone()];
    let mut from = 0;
    while let Some(i) = part[from..].find(key).map(|i| from + i) {
        let after = part[i + key.len()..].trim_start_matches([' ', '\t']);
        let before = part[..i].chars().last();
        if before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            && after.starts_with('=')
        {
            return Some(range.start + i);
        }
        from = i + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let text = "a = \"{[\" # {\nb = '['\nc = \"\"\"\n{\n\"\"\"\nd = { e = [1";
        let scan = Scan::upto(text, text.len());
        let open: Vec<char> = scan.open.iter().map(|o| o.0).collect();
        assert_eq!(open, vec!['{', '[']);
    }

    #[test]
    fn table_headers_are_found_but_arrays_of_pairs_are_not_headers() {
        let text = "[network]\nlinks = [\n  [\"a\", \"b\"],\n]\n[[detectors]]\nkind = 1\n";
        let scan = Scan::upto(text, text.len());
        let headers: Vec<&str> = scan.headers.iter().map(|h| h.0.as_str()).collect();
        assert_eq!(headers, vec!["[network]", "[[detectors]]"]);
        assert!(scan.open.is_empty());
    }
}
