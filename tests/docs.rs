//! The documentation cannot drift from the program: every ```console
//! example in README.md and docs/*.md is executed and its output compared,
//! the README's trade-off image is redrawn, and the committed baselines are
//! rewritten and compared byte for byte.
//!
//! # Console examples
//!
//! A ```console block holds commands (`$ ` lines, continued by a trailing
//! `\`) each followed by the output it prints, stdout and stderr merged as
//! on a terminal. The blocks of one page run in order in one bash session,
//! in a scratch copy of `scenarios/` and `baselines/`, with the `fdsim`
//! under test first on PATH; so a page's blocks share files and `$?`.
//! Expected output may contain:
//!
//! - a line `...`: any number of lines (for long output);
//! - `[..]` inside a line: any text on that line (for genuinely variable
//!   text only, such as timings).
//!
//! A block whose info string names a file, as in ```toml file=typo.toml,
//! is written to that file before the page's later commands run, so an
//! example's input is shown on the page. Any other block (```text, ```sh,
//! ```toml, ...) is not run: mark a block ```text when it shows output that
//! cannot be produced by a command. A ```console block without a command is
//! an error, so nothing is skipped silently.
//!
//! # When numbers move
//!
//! `FDSIM_BLESS=1 cargo test --release --test docs` rewrites the expected
//! output in the pages and the image instead of failing. Lines without
//! wildcards are replaced by what was printed; a block with one `...`
//! keeps as many lines before and after it as it had, taken from the new
//! output (lines with `[..]` are kept when they still match); a block
//! whose output became shorter than that loses its `...`. Review the diff.
//! Baselines are not blessed: the test says which differ, and
//! `fdsim baseline scenarios/ --out baselines/` rewrites them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FDSIM: &str = env!("CARGO_BIN_EXE_fdsim");
/// What each page's scratch folder starts with, copied from the repository.
const SCRATCH_CONTENT: [&str; 2] = ["scenarios", "baselines"];
const MARKER: &str = "@@fdsim-doc-command-end@@";

fn blessing() -> bool {
    std::env::var_os("FDSIM_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// One `$ ` command of a console block and the output shown after it.
#[derive(Debug)]
struct Example {
    /// 1-based line of the `$ `.
    line: usize,
    command: String,
    expected: Vec<String>,
    /// 0-based range of the expected lines in the page.
    lines: std::ops::Range<usize>,
    indent: String,
}

#[derive(Debug)]
enum Step {
    Write { name: String, text: String },
    Run(Example),
}

/// The fenced blocks of a page that the harness acts on, in page order.
fn parse(page: &str, text: &str) -> Result<Vec<Step>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let indent = lines[i][..lines[i].len() - trimmed.len()].to_string();
        let open = i;
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].trim() == "```")
            .ok_or_else(|| format!("{page}:{}: unclosed code block", open + 1))?;
        let body: Vec<&str> = lines[open + 1..end]
            .iter()
            .map(|l| l.strip_prefix(indent.as_str()).unwrap_or(l.trim_start()))
            .collect();
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or("");
        if let Some(name) = words.find_map(|w| w.strip_prefix("file=")) {
            let mut text = body.join("\n");
            text.push('\n');
            steps.push(Step::Write {
                name: name.to_string(),
                text,
            });
        } else if lang == "console" {
            let examples = console_block(page, &body, open + 1, &indent)?;
            steps.extend(examples.into_iter().map(Step::Run));
        } else if body.first().is_some_and(|l| l.starts_with("$ ")) {
            return Err(format!(
                "{page}:{}: a ```{lang} block starting with a `$ ` command is not run; \
                 mark it ```console so it is checked",
                open + 1
            ));
        }
        i = end + 1;
    }
    Ok(steps)
}

/// The examples of one console block whose first body line is `first`.
fn console_block(
    page: &str,
    body: &[&str],
    first: usize,
    indent: &str,
) -> Result<Vec<Example>, String> {
    if !body.first().is_some_and(|l| l.starts_with("$ ")) {
        return Err(format!(
            "{page}:{first}: a ```console block must start with a `$ ` command; \
             mark output that is not run as ```text"
        ));
    }
    let mut out: Vec<Example> = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let Some(cmd) = body[k].strip_prefix("$ ") else {
            let ex = out.last_mut().expect("the block starts with a command");
            ex.expected.push(body[k].to_string());
            ex.lines.end = first + k + 1;
            k += 1;
            continue;
        };
        let line = first + k + 1;
        let mut command = cmd.to_string();
        while command.ends_with('\\') && k + 1 < body.len() {
            k += 1;
            command.push('\n');
            command.push_str(body[k]);
        }
        out.push(Example {
            line,
            command,
            expected: Vec::new(),
            lines: first + k + 1..first + k + 1,
            indent: indent.to_string(),
        });
        k += 1;
    }
    Ok(out)
}

/// One bash script running every step of a page, printing MARKER after
/// each command and keeping `$?` for the next one.
fn script(steps: &[Step]) -> String {
    let mut s = String::from("exec 2>&1\n");
    for step in steps {
        match step {
            Step::Write { name, text } => {
                let _ = write!(
                    s,
                    "mkdir -p \"$(dirname '{name}')\"\ncat > '{name}' <<'FDSIM_DOC_EOF'\n{text}FDSIM_DOC_EOF\n"
                );
            }
            Step::Run(ex) => {
                let _ = write!(
                    s,
                    "{}\nfdsim_doc_status=$?; printf '\\n%s\\n' '{MARKER}'; (exit $fdsim_doc_status)\n",
                    ex.command
                );
            }
        }
    }
    s
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh scratch folder named after `label`.
fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fdsim-docs-{}-{}",
        label.replace(['/', '.'], "-"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the page's script in `dir`; the output of each command.
fn execute(page: &str, steps: &[Step], dir: &Path) -> Vec<Vec<String>> {
    let bin = Path::new(FDSIM).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &script(steps)])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut chunks: Vec<&str> = text.split(&format!("\n{MARKER}\n")).collect();
    let rest = chunks.pop().unwrap_or("");
    let n = steps.iter().filter(|s| matches!(s, Step::Run(_))).count();
    assert!(
        chunks.len() == n && rest.is_empty(),
        "{page}: the examples' shell session ended early after {} of {n} commands; it printed:\n{text}",
        chunks.len()
    );
    chunks.into_iter().map(output_lines).collect()
}

/// Lines without trailing spaces, and without trailing blank lines.
fn output_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Whether `line` matches `pattern`, where `[..]` stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `actual` matches `expected`, where a line `...` stands for any
/// number of lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e.trim() == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, tail)| line_matches(e, a) && matches(rest, tail)),
    }
}

/// The expected lines rewritten to describe `actual`, keeping the shape of
/// the elision (see the module documentation).
fn blessed(expected: &[String], actual: &[String]) -> Vec<String> {
    let keep = |e: &String, a: &String| {
        if line_matches(e, a) {
            e.clone()
        } else {
            a.clone()
        }
    };
    let elisions: Vec<usize> = (0..expected.len())
        .filter(|&i| expected[i].trim() == "...")
        .collect();
    match elisions[..] {
        [] if expected.len() == actual.len() => expected
            .iter()
            .zip(actual)
            .map(|(e, a)| keep(e, a))
            .collect(),
        [at] if at + (expected.len() - at - 1) <= actual.len() => {
            let tail = expected.len() - at - 1;
            let mut out: Vec<String> = expected[..at]
                .iter()
                .zip(actual)
                .map(|(e, a)| keep(e, a))
                .collect();
            out.push("...".to_string());
            let from = actual.len() - tail;
            out.extend(
                expected[at + 1..]
                    .iter()
                    .zip(&actual[from..])
                    .map(|(e, a)| keep(e, a)),
            );
            out
        }
        _ => actual.to_vec(),
    }
}

/// A line diff of expected against actual: `-` expected, `+` printed.
fn diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if line_matches(&expected[i], &actual[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut s) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && line_matches(&expected[i], &actual[j]) {
            let _ = writeln!(s, "  {}", actual[j]);
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            let _ = writeln!(s, "+ {}", actual[j]);
            j += 1;
        } else {
            let _ = writeln!(s, "- {}", expected[i]);
            i += 1;
        }
    }
    s
}

/// Runs the examples of one page (a path relative to the repository);
/// returns the failures, or blesses the page.
fn check_page(page: &str) -> Vec<String> {
    let file = Path::new(ROOT).join(page);
    let text = std::fs::read_to_string(&file).unwrap();
    let steps = match parse(page, &text) {
        Ok(s) => s,
        Err(e) => return vec![e],
    };
    if !steps.iter().any(|s| matches!(s, Step::Run(_))) {
        return Vec::new();
    }
    let dir = scratch(page);
    let work = dir.join("work");
    for name in SCRATCH_CONTENT {
        copy_dir(&Path::new(ROOT).join(name), &work.join(name));
    }
    let outputs = execute(page, &steps, &work);
    let examples = steps.iter().filter_map(|s| match s {
        Step::Run(ex) => Some(ex),
        Step::Write { .. } => None,
    });
    let mut failures = Vec::new();
    let mut rewrites = Vec::new();
    for (ex, actual) in examples.zip(&outputs) {
        let expected: Vec<String> = ex.expected.iter().map(|l| l.trim_end().into()).collect();
        if matches(&expected, actual) {
            continue;
        }
        if blessing() {
            rewrites.push((ex, blessed(&expected, actual)));
        } else {
            failures.push(format!(
                "{page}:{}: `$ {}` printed something else (- shown in the page, + printed):\n{}",
                ex.line,
                ex.command,
                diff(&expected, actual)
            ));
        }
    }
    if !rewrites.is_empty() {
        rewrite(&file, &text, &rewrites);
        eprintln!("blessed {} example(s) in {page}", rewrites.len());
    }
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        failures.push(format!(
            "{page}: the examples ran in {}; to accept the printed output: \
             FDSIM_BLESS=1 cargo test --release --test docs",
            work.display()
        ));
    }
    failures
}

/// Replaces the expected lines of each example in the page.
fn rewrite(file: &Path, text: &str, rewrites: &[(&Example, Vec<String>)]) {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for (ex, new) in rewrites.iter().rev() {
        let with_indent = new.iter().map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{}{l}", ex.indent)
            }
        });
        lines.splice(ex.lines.clone(), with_indent);
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    std::fs::write(file, out).unwrap();
}

fn assert_pages(pages: &[String]) {
    let failures: Vec<String> = pages.iter().flat_map(|p| check_page(p)).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn readme_examples_print_what_fdsim_prints_today() {
    assert_pages(&["README.md".to_string()]);
}

#[test]
fn docs_pages_examples_print_what_fdsim_prints_today() {
    let mut pages: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    pages.sort();
    assert_pages(&pages);
}

/// Runs fdsim in a scratch copy of the repository's scenarios.
fn fdsim_in(dir: &Path, args: &[&str]) {
    copy_dir(&Path::new(ROOT).join("scenarios"), &dir.join("scenarios"));
    let o = Command::new(FDSIM)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("fdsim runs");
    assert!(
        o.status.success(),
        "fdsim {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_readme_tradeoff_image_is_what_fdsim_run_draws_today() {
    let dir = scratch("image");
    fdsim_in(
        &dir,
        &["run", "scenarios/cloud-detectors.toml", "--out", "report"],
    );
    let fresh = std::fs::read(dir.join("report/cloud-detectors/tradeoff.svg")).unwrap();
    let committed_path = Path::new(ROOT).join("docs/img/cloud-detectors-tradeoff.svg");
    let committed = std::fs::read(&committed_path).unwrap_or_default();
    if fresh != committed && blessing() {
        std::fs::write(&committed_path, &fresh).unwrap();
        eprintln!("blessed docs/img/cloud-detectors-tradeoff.svg");
    } else {
        assert!(
            fresh == committed,
            "docs/img/cloud-detectors-tradeoff.svg is not what \
             `fdsim run scenarios/cloud-detectors.toml` draws today (fresh copy: {}); \
             to accept it: FDSIM_BLESS=1 cargo test --release --test docs",
            dir.join("report/cloud-detectors/tradeoff.svg").display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn json_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn committed_baselines_are_byte_for_byte_what_fdsim_baseline_writes_today() {
    let dir = scratch("baselines");
    fdsim_in(&dir, &["baseline", "scenarios/", "--out", "fresh"]);
    let committed = Path::new(ROOT).join("baselines");
    let (old, new) = (json_files(&committed), json_files(&dir.join("fresh")));
    let mut stale = Vec::new();
    for name in old.iter().chain(&new) {
        let a = std::fs::read(committed.join(name)).ok();
        let b = std::fs::read(dir.join("fresh").join(name)).ok();
        if a != b && !stale.contains(name) {
            stale.push(name.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "baselines/ differs from what `fdsim baseline scenarios/ --out baselines/` writes today \
         in {} file(s): {}\n(fresh copies: {}). If the change of numbers is intended, \
         regenerate and commit them: cargo run --release -- baseline scenarios/ --out baselines/",
        stale.len(),
        stale.join(", "),
        dir.join("fresh").display()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(String::from).collect()
}

#[test]
fn an_elision_matches_any_number_of_lines_and_a_wildcard_any_text() {
    let expected = lines("first\n...\nlast [..] s");
    assert!(matches(&expected, &lines("first\nlast 1.2 s")));
    assert!(matches(&expected, &lines("first\na\nb\nlast 1.2 s")));
    assert!(!matches(&expected, &lines("first\na\nlast")));
    assert!(!matches(&lines("a\nb"), &lines("a\nb\nc")));
    assert!(line_matches(
        "took [..] s on [..] cores",
        "took 3 s on 2 cores"
    ));
    assert!(!line_matches("took [..] s", "took 3 ms"));
}

#[test]
fn blessing_keeps_the_elision_and_the_wildcards_that_still_match() {
    let expected = lines("head\n...\ntook [..] s\nold tail");
    let actual = lines("new head\nx\ny\ntook 4 s\nnew tail");
    assert_eq!(
        blessed(&expected, &actual),
        lines("new head\n...\ntook [..] s\nnew tail")
    );
    assert_eq!(
        blessed(&lines("a\n...\nb\nc"), &lines("x\ny")),
        lines("x\ny")
    );
    assert_eq!(blessed(&lines("a\nb"), &lines("c")), lines("c"));
}

#[test]
fn console_blocks_are_split_into_commands_with_their_output() {
    let page =
        "x\n```console\n$ a \\\n  --b\nout 1\nout 2\n$ c\n```\n```toml file=d.toml\nk = 1\n```\n";
    let steps = parse("p.md", page).unwrap();
    let Step::Run(first) = &steps[0] else {
        panic!("{steps:?}")
    };
    assert_eq!(first.command, "a \\\n  --b");
    assert_eq!(first.expected, ["out 1", "out 2"]);
    assert_eq!((first.line, first.lines.clone()), (3, 4..6));
    let Step::Run(second) = &steps[1] else {
        panic!("{steps:?}")
    };
    assert_eq!((second.line, second.lines.clone()), (7, 7..7));
    assert!(
        matches!(&steps[2], Step::Write { name, text } if name == "d.toml" && text == "k = 1\n")
    );
    assert!(parse("p.md", "```console\nno command\n```\n").is_err());
    assert!(parse("p.md", "```text\n$ fdsim run\n```\n").is_err());
}
