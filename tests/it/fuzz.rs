//! A fuzzer in the suite: the bundled scenarios, mutated (bytes, tokens,
//! numbers pushed to extremes, lines deleted or duplicated), must never
//! make validation panic, and every rejection must say where.

use fdsim::scenario::{Scenario, ScenarioError};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn bundled() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// One mutation of `text`, chosen and placed by the drawn numbers.
fn mutate(text: &str, kind: u8, at: usize, pick: usize) -> String {
    const EXTREMES: [&str; 10] = [
        "0",
        "-1",
        "1e308",
        "-1e308",
        "nan",
        "inf",
        "9223372036854775807",
        "0.0000001",
        "\"0ns\"",
        "\"99999d\"",
    ];
    const TOKENS: [&str; 10] = ["[", "]", "{", "}", "=", "\"", ",", "[[", "\n", "#"];
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len().max(1);
    let line = at % n;
    match kind % 6 {
        // A byte replaced by another printable byte.
        0 => {
            let mut b = text.as_bytes().to_vec();
            if !b.is_empty() {
                let i = at % b.len();
                b[i] = b" -=[]{}\",.#0123456789abcxyz"[pick % 27];
            }
            String::from_utf8_lossy(&b).into_owned()
        }
        // A token inserted.
        1 => {
            let i = text
                .char_indices()
                .map(|(i, _)| i)
                .nth(at % text.len().max(1))
                .unwrap_or(0);
            format!(
                "{}{}{}",
                &text[..i],
                TOKENS[pick % TOKENS.len()],
                &text[i..]
            )
        }
        // The value of a `key = value` line pushed to an extreme.
        2 => {
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let idx = (0..n)
                .map(|k| (line + k) % n)
                .find(|&k| out[k].contains(" = "));
            if let Some(k) = idx {
                let key = out[k].split(" = ").next().unwrap_or("").to_string();
                out[k] = format!("{key} = {}", EXTREMES[pick % EXTREMES.len()]);
            }
            out.join("\n")
        }
        // A line deleted.
        3 => {
            let mut out = lines.clone();
            if !out.is_empty() {
                out.remove(line);
            }
            out.join("\n")
        }
        // A line duplicated.
        4 => {
            let mut out = lines.clone();
            if !out.is_empty() {
                out.insert(line, lines[line]);
            }
            out.join("\n")
        }
        // A number's digits doubled, or its sign flipped.
        _ => {
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if let Some(l) = out.get_mut(line) {
                if let Some(i) = l.find(|c: char| c.is_ascii_digit()) {
                    let insert = if pick % 2 == 0 { "-" } else { "99999999" };
                    l.insert_str(i, insert);
                }
            }
            out.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_never_panic_and_every_rejection_has_a_position(
        which in 0usize..1000,
        muts in proptest::collection::vec((0u8..6, 0usize..100_000, 0usize..1000), 1..4),
    ) {
        let files = bundled();
        let (path, text) = &files[which % files.len()];
        let mut t = text.clone();
        for (kind, at, pick) in muts {
            t = mutate(&t, kind, at, pick);
        }
        let parsed = std::panic::catch_unwind(|| Scenario::parse(path, &t));
        prop_assert!(parsed.is_ok(), "validation panicked on:\n{t}");
        if let Ok(Err(ScenarioError::Invalid(d))) = parsed {
            prop_assert!(
                d.line.is_some() && d.column.is_some(),
                "no position for {:?} in:\n{t}", d.message
            );
        }
    }
}

#[test]
fn the_mutations_reach_both_rejections_and_acceptances() {
    let files = bundled();
    let (mut rejected, mut accepted) = (0, 0);
    for i in 0..600usize {
        let (path, text) = &files[i % files.len()];
        let t = mutate(text, (i % 6) as u8, i * 7919, i * 31);
        match Scenario::parse(path, &t) {
            Ok(_) => accepted += 1,
            Err(ScenarioError::Invalid(d)) => {
                assert!(d.line.is_some(), "no position: {}", d.message);
                rejected += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        rejected > 100 && accepted > 100,
        "rejected {rejected}, accepted {accepted}"
    );
}
