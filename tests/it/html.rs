//! The HTML report: every scenario folder gets a `report.html` rendered
//! from its `report.md`, the index lists every folder present (a partial
//! re-run keeps the others), and nothing is fetched from the network.

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fdsim-html-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the small fixture scenario under `dir` with another name and
/// description.
fn scenario(dir: &Path, name: &str, description: &str) -> PathBuf {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ok-small.toml"),
    )
    .unwrap();
    let text = base
        .replace("name = \"ok-small\"", &format!("name = \"{name}\""))
        .replace(
            "description = \"Small pair for CLI tests.\"",
            &format!("description = \"{description}\""),
        )
        .replace("seeds = 2", "seeds = 1");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn run(paths: &[&Path], out: &Path, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .arg("run")
        .args(paths)
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_partial_rerun_keeps_every_scenario_in_the_index_and_the_navigation() {
    let dir = temp_dir("partial");
    let (a, b) = (
        scenario(&dir, "alpha", "First pair."),
        scenario(&dir, "beta", "Second pair."),
    );
    let out = dir.join("report");
    run(&[&a], &out, &[]);
    let alpha_md = read(out.join("alpha/report.md"));
    run(&[&b], &out, &[]);
    // alpha was not re-run: its Markdown is the same file, yet its page
    // and the index now know beta.
    assert_eq!(read(out.join("alpha/report.md")), alpha_md);
    for index in ["index.md", "index.html"] {
        let text = read(out.join(index));
        assert!(
            text.contains("alpha/report") && text.contains("beta/report"),
            "{index}: {text}"
        );
        assert!(
            text.contains("First pair.") && text.contains("Second pair."),
            "{index}"
        );
    }
    let alpha = read(out.join("alpha/report.html"));
    assert!(alpha.contains("href=\"../beta/report.html\""), "{alpha}");
    assert!(read(out.join("beta/report.html")).contains("href=\"../alpha/report.html\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_scenario_page_shows_every_table_and_section_of_report_md() {
    let dir = temp_dir("tables");
    let out = dir.join("report");
    run(&[&scenario(&dir, "pair", "A pair.")], &out, &[]);
    let md = read(out.join("pair/report.md"));
    let html = read(out.join("pair/report.html"));
    let tables = md.lines().filter(|l| l.starts_with("|---")).count();
    assert!(tables >= 2, "{md}");
    assert_eq!(html.matches("<table>").count(), tables);
    for heading in md.lines().filter_map(|l| l.strip_prefix("## ")) {
        assert!(html.contains(&format!(">{heading}</h2>")), "{heading}");
    }
    // The plot is inlined, with a tooltip per point, not linked.
    assert!(html.contains("<svg aria-label="), "plot not inlined");
    let points = html.matches("<g class=\"point\">").count();
    assert_eq!(points, 4, "one per swept value");
    assert_eq!(html.matches("<g class=\"point\"><title>").count(), points);
    assert!(html.contains("T_D mean") && html.contains("mistakes/h"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pages_load_nothing_from_the_network_and_show_markup_in_descriptions_as_text() {
    let dir = temp_dir("offline");
    let out = dir.join("report");
    let sc = scenario(&dir, "pair", "Less <b>than</b> & more <script>x</script>");
    run(&[&sc], &out, &["--plot-size", "paper"]);
    for page in ["index.html", "pair/report.html"] {
        let html = read(out.join(page));
        for bad in [
            "src=\"http",
            "href=\"http",
            "<link",
            "<script",
            "url(",
            "@import",
        ] {
            assert!(!html.contains(bad), "{page} holds {bad}");
        }
        assert!(html.contains("&lt;b&gt;than&lt;/b&gt;"), "{page}");
        assert!(html.contains("@media print"), "{page}");
    }
    // The paper-sized plot: 7 inches wide.
    assert!(read(out.join("pair/tradeoff.svg")).contains("width=\"7.00in\""));
    std::fs::remove_dir_all(&dir).unwrap();
}
