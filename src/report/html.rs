//! The HTML report: `NAME/report.html` for every scenario folder and the
//! top-level `index.html`, rendered from the very Markdown of `report.md`
//! and `index.md` (so every table the Markdown gains shows up in the
//! browser too), with the plots inlined (their tooltips work), a sidebar
//! linking every scenario, inline CSS (nothing fetched: the pages work
//! offline from the file system) and a print style.
//!
//! Pages are built from what is on disk, not from this run's results: a
//! run of one scenario into an existing report rebuilds the index and the
//! navigation over every scenario folder present ([`scan`]).

use super::plot::escape;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use std::io;
use std::path::Path;

/// One scenario folder of a report, as the index shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The folder's name (the scenario's `name`).
    pub name: String,
    /// The paragraphs of `report.md` between its title and first section.
    pub description: String,
    /// Rows of `curve.csv` on the Pareto front, and all its rows.
    pub front: usize,
    pub points: usize,
    /// Whether the folder has `runs.csv` and `tradeoff.svg`.
    pub runs: bool,
    pub plot: bool,
}

impl Entry {
    /// Reads the entry of the scenario folder `dir`, or `None` when it has
    /// no `report.md` (not a scenario's folder).
    pub fn read(dir: &Path) -> Option<Entry> {
        let name = dir.file_name()?.to_string_lossy().into_owned();
        let md = std::fs::read_to_string(dir.join("report.md")).ok()?;
        let (front, points) = pareto_count(&dir.join("curve.csv")).unwrap_or((0, 0));
        Some(Entry {
            name,
            description: description(&md),
            front,
            points,
            runs: dir.join("runs.csv").is_file(),
            plot: dir.join("tradeoff.svg").is_file(),
        })
    }
}

/// Every scenario folder under `out`, in name order.
pub fn scan(out: &Path) -> io::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = std::fs::read_dir(out)?
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.path().is_dir())
        .filter_map(|e| Entry::read(&e.path()))
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// The text of the paragraphs between the title and the first section of
/// a `report.md`.
fn description(md: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut seen_title = false;
    let mut in_para = false;
    for ev in Parser::new(md) {
        match ev {
            Event::End(TagEnd::Heading(_)) if !seen_title => seen_title = true,
            Event::Start(Tag::Heading { .. }) if seen_title => break,
            Event::Start(Tag::Paragraph) if seen_title => {
                in_para = true;
                out.push(String::new());
            }
            Event::End(TagEnd::Paragraph) => in_para = false,
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) if in_para => {
                if let Some(last) = out.last_mut() {
                    last.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak if in_para => {
                if let Some(last) = out.last_mut() {
                    last.push(' ');
                }
            }
            _ => {}
        }
    }
    out.join(" ")
}

/// (rows with `pareto` true, all rows) of a `curve.csv`, found by the
/// column's name, so new columns do not matter.
fn pareto_count(path: &Path) -> Option<(usize, usize)> {
    let mut r = csv::Reader::from_path(path).ok()?;
    let col = r.headers().ok()?.iter().position(|h| h == "pareto")?;
    let (mut front, mut all) = (0, 0);
    for rec in r.records() {
        let rec = rec.ok()?;
        all += 1;
        if rec.get(col) == Some("true") {
            front += 1;
        }
    }
    Some((front, all))
}

/// A heading's anchor: lowercase letters and digits, dashes between words.
fn slug(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

/// How Markdown becomes a page body.
struct Render<'a> {
    /// The folder relative links resolve in.
    dir: &'a Path,
    /// Replace images of SVG files with the SVG itself.
    inline_svg: bool,
}

/// A rendered body and its second-level headings (anchor, text).
struct Body {
    html: String,
    sections: Vec<(String, String)>,
}

impl Render<'_> {
    /// Markdown to HTML: tables (wrapped to scroll sideways on a narrow
    /// screen), headings with anchors, links to `.md` pages turned into
    /// links to their `.html` pages, inline code naming a file of the
    /// folder turned into a link to it, SVG images inlined, and raw HTML
    /// shown as text (a description is never markup).
    fn body(&self, md: &str) -> Body {
        let events: Vec<Event> = Parser::new_ext(md, Options::ENABLE_TABLES).collect();
        let mut out: Vec<Event> = Vec::with_capacity(events.len());
        let mut sections = Vec::new();
        let mut slugs: Vec<String> = Vec::new();
        let mut i = 0;
        while i < events.len() {
            match &events[i] {
                Event::Start(Tag::Heading {
                    level,
                    classes,
                    attrs,
                    ..
                }) => {
                    let text = plain_text(&events[i + 1..], |e| {
                        matches!(e, Event::End(TagEnd::Heading(_)))
                    });
                    let mut id = slug(&text);
                    if slugs.contains(&id) || id.is_empty() {
                        id = format!("{id}-{}", slugs.len() + 1);
                    }
                    slugs.push(id.clone());
                    if *level == pulldown_cmark::HeadingLevel::H2 {
                        sections.push((id.clone(), text));
                    }
                    out.push(Event::Start(Tag::Heading {
                        level: *level,
                        id: Some(CowStr::from(id)),
                        classes: classes.clone(),
                        attrs: attrs.clone(),
                    }));
                }
                Event::Start(Tag::Image { dest_url, .. }) => {
                    let end = (i..events.len())
                        .find(|&k| matches!(events[k], Event::End(TagEnd::Image)))
                        .unwrap_or(events.len() - 1);
                    let alt =
                        plain_text(&events[i + 1..], |e| matches!(e, Event::End(TagEnd::Image)));
                    match self.svg(dest_url) {
                        Some(svg) => {
                            let labelled = svg.replacen(
                                "<svg ",
                                &format!("<svg aria-label=\"{}\" ", escape(&alt)),
                                1,
                            );
                            out.push(Event::Html(CowStr::from(labelled)));
                        }
                        None => out.push(Event::Html(CowStr::from(format!(
                            "<img src=\"{}\" alt=\"{}\">",
                            escape(dest_url),
                            escape(&alt)
                        )))),
                    }
                    i = end;
                }
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => out.push(Event::Start(Tag::Link {
                    link_type: *link_type,
                    dest_url: CowStr::from(html_target(dest_url)),
                    title: title.clone(),
                    id: id.clone(),
                })),
                Event::Start(Tag::Table(a)) => {
                    out.push(Event::Html(CowStr::from("<div class=\"table-wrap\">")));
                    out.push(Event::Start(Tag::Table(a.clone())));
                }
                Event::End(TagEnd::Table) => {
                    out.push(Event::End(TagEnd::Table));
                    out.push(Event::Html(CowStr::from("</div>")));
                }
                Event::Code(t) if self.is_file(t) => {
                    out.push(Event::Html(CowStr::from(format!(
                        "<a href=\"{0}\"><code>{0}</code></a>",
                        escape(t)
                    ))));
                }
                Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => {}
                Event::Html(t) | Event::InlineHtml(t) => out.push(Event::Text(t.clone())),
                e => out.push(e.clone()),
            }
            i += 1;
        }
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, out.into_iter());
        Body { html, sections }
    }

    /// A plain file name (no folder) of a file in the folder.
    fn is_file(&self, name: &str) -> bool {
        !name.contains(['/', '\\']) && !name.starts_with('.') && self.dir.join(name).is_file()
    }

    /// The SVG document an image link names, to inline.
    fn svg(&self, dest: &str) -> Option<String> {
        if !self.inline_svg || !dest.ends_with(".svg") || !self.is_file(dest) {
            return None;
        }
        let text = std::fs::read_to_string(self.dir.join(dest)).ok()?;
        let start = text.find("<svg")?;
        Some(text[start..].to_string())
    }
}

/// The text of events up to the first one `end` matches.
fn plain_text(events: &[Event], end: impl Fn(&Event) -> bool) -> String {
    let mut s = String::new();
    for e in events.iter().take_while(|e| !end(e)) {
        if let Event::Text(t) | Event::Code(t) = e {
            s.push_str(t);
        }
    }
    s
}

/// A relative link to a Markdown page of the report, pointed at its HTML
/// rendering; other links unchanged.
fn html_target(dest: &str) -> String {
    let local = !dest.contains("://") && !dest.starts_with('#');
    match dest
        .strip_suffix("report.md")
        .or(dest.strip_suffix("index.md"))
    {
        Some(_) if local => format!("{}html", &dest[..dest.len() - 2]),
        _ => dest.to_string(),
    }
}

const CSS: &str = r#"
:root{--fg:#1d1d1f;--muted:#5b5b60;--line:#d8d8dc;--accent:#0b5cad;--side:#f5f5f7}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--fg);background:#fff;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;display:flex;align-items:flex-start}
nav.site{flex:0 0 15.5rem;position:sticky;top:0;height:100vh;overflow-y:auto;padding:1rem .8rem;background:var(--side);border-right:1px solid var(--line);font-size:.9rem}
nav.site .home{display:block;font-weight:700;font-size:1.05rem;margin-bottom:.6rem;color:var(--fg);text-decoration:none}
nav.site ol{list-style:none;margin:0;padding:0}
nav.site li a{display:block;padding:.15rem .45rem;border-radius:4px;color:var(--fg);text-decoration:none;overflow-wrap:anywhere}
nav.site li a:hover{background:#e6e6ea}
nav.site li a[aria-current=page]{background:var(--accent);color:#fff}
nav.site ul.toc{list-style:none;margin:.2rem 0 .4rem .8rem;padding:0;font-size:.85rem}
nav.site ul.toc a{color:var(--muted);text-decoration:none;display:block;padding:.05rem .45rem}
main{flex:1 1 auto;min-width:0;max-width:76rem;padding:.8rem 2rem 3rem}
.pager{display:flex;gap:1rem;justify-content:space-between;font-size:.9rem;color:var(--muted);border-bottom:1px solid var(--line);padding-bottom:.4rem}
.pager.bottom{border-bottom:0;border-top:1px solid var(--line);padding-top:.4rem;margin-top:2rem}
h1{font-size:1.9rem;line-height:1.2;margin:.8rem 0 .6rem}
h2{font-size:1.35rem;margin:2.2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
h2 a{color:inherit;text-decoration:none}
a{color:var(--accent)}
p,li{max-width:52rem}
code{font:.88em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f2f2f4;padding:.05em .25em;border-radius:3px}
.table-wrap{overflow-x:auto;margin:1rem 0;border:1px solid var(--line);border-radius:4px}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums;width:max-content;min-width:100%}
th,td{padding:.3rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;white-space:nowrap}
th{background:#eef1f5;font-weight:600}
tbody tr:nth-child(even){background:#fafafb}
tbody tr:hover{background:#fff7e0}
svg.fdsim-plot{display:block;max-width:100%;height:auto;margin:.5rem 0;border:1px solid var(--line);border-radius:4px}
img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
footer{margin-top:2.5rem;color:var(--muted);font-size:.85rem}
@media (max-width:60rem){body{display:block}nav.site{position:static;height:auto;border-right:0;border-bottom:1px solid var(--line)}nav.site ol{columns:2}main{padding:.8rem 1rem 2rem}}
@media print{
@page{margin:15mm}
body{display:block;font-size:10pt}
nav.site,.pager{display:none}
main{max-width:none;padding:0}
a{color:inherit;text-decoration:none}
.table-wrap{overflow:visible;border:0}
table{font-size:7.5pt;width:auto}
th,td{padding:.1rem .3rem;white-space:normal}
h1,h2{break-after:avoid}
tr,svg,img,figure{break-inside:avoid}
svg.fdsim-plot,img{border:0}
}
"#;

/// Where a page sits: the top-level index or a scenario's folder.
#[derive(Clone, Copy)]
enum At<'a> {
    Index,
    Scenario(&'a str),
}

/// A whole page around `body`.
fn page(title: &str, at: At, entries: &[Entry], body: &Body) -> String {
    let up = match at {
        At::Index => "",
        At::Scenario(_) => "../",
    };
    let mut s = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"fdsim {}\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <nav class=\"site\" aria-label=\"scenarios\">\n<a class=\"home\" href=\"{up}index.html\"{}>fdsim report</a>\n<ol>\n",
        env!("CARGO_PKG_VERSION"),
        escape(title),
        if matches!(at, At::Index) {
            " aria-current=\"page\""
        } else {
            ""
        }
    );
    for e in entries {
        let current = matches!(at, At::Scenario(n) if n == e.name);
        let name = escape(&e.name);
        s.push_str(&format!(
            "<li><a href=\"{up}{}/report.html\"{}>{name}</a>",
            href(&e.name),
            if current {
                " aria-current=\"page\""
            } else {
                ""
            }
        ));
        if current && !body.sections.is_empty() {
            s.push_str("<ul class=\"toc\">");
            for (id, text) in &body.sections {
                s.push_str(&format!(
                    "<li><a href=\"#{}\">{}</a></li>",
                    escape(id),
                    escape(text)
                ));
            }
            s.push_str("</ul>");
        }
        s.push_str("</li>\n");
    }
    s.push_str("</ol>\n</nav>\n<main");
    if matches!(at, At::Index) {
        s.push_str(" class=\"index\"");
    }
    s.push_str(">\n");
    let pager = pager(at, entries);
    s.push_str(&pager.replace("class=\"pager\"", "class=\"pager top\""));
    s.push_str(&body.html);
    s.push_str(&pager.replace("class=\"pager\"", "class=\"pager bottom\""));
    s.push_str(&format!(
        "<footer>Written by fdsim {}. {}</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        match at {
            At::Index => "The same page as Markdown: <a href=\"index.md\">index.md</a>.",
            At::Scenario(_) =>
                "The same page as Markdown: <a href=\"report.md\">report.md</a>; \
                 column definitions in fdsim's docs/output.md.",
        }
    ));
    s
}

/// A folder name as a URL path segment (names are letters, digits, `-`,
/// `_` and `.`, but a hand-made folder may hold anything).
fn href(name: &str) -> String {
    let mut s = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    escape(&s)
}

/// Links to the previous scenario, the index and the next scenario.
fn pager(at: At, entries: &[Entry]) -> String {
    let At::Scenario(name) = at else {
        return format!(
            "<nav class=\"pager\" aria-label=\"pages\"><span>{} scenario report(s)</span></nav>\n",
            entries.len()
        );
    };
    let i = entries.iter().position(|e| e.name == name);
    let link = |e: Option<&Entry>, arrow_before: bool| match e {
        Some(e) => {
            let n = escape(&e.name);
            let text = if arrow_before {
                format!("← {n}")
            } else {
                format!("{n} →")
            };
            format!("<a href=\"../{}/report.html\">{text}</a>", href(&e.name))
        }
        None => "<span></span>".to_string(),
    };
    let prev = i
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| entries.get(i));
    let next = i.and_then(|i| entries.get(i + 1));
    format!(
        "<nav class=\"pager\" aria-label=\"pages\">{}<a href=\"../index.html\">all scenarios</a>{}</nav>\n",
        link(prev, true),
        link(next, false)
    )
}

/// The `report.html` of the scenario folder `dir` (named as `entry`),
/// from its `report.md`.
pub fn scenario_page(dir: &Path, entry: &Entry, entries: &[Entry]) -> io::Result<String> {
    let md = std::fs::read_to_string(dir.join("report.md"))?;
    let body = Render {
        dir,
        inline_svg: true,
    }
    .body(&md);
    Ok(page(
        &format!("{} · fdsim report", entry.name),
        At::Scenario(&entry.name),
        entries,
        &body,
    ))
}

/// The top-level `index.html`, from the Markdown of `index.md`.
pub fn index_page(out: &Path, index_md: &str, entries: &[Entry]) -> String {
    let body = Render {
        dir: out,
        inline_svg: false,
    }
    .body(index_md);
    page("fdsim report", At::Index, entries, &body)
}

/// Writes `report.html` into every scenario folder under `out` and the
/// top-level `index.md` and `index.html`, over every scenario folder
/// present.
pub fn write_pages(out: &Path) -> io::Result<()> {
    let entries = scan(out)?;
    for e in &entries {
        let dir = out.join(&e.name);
        let html = scenario_page(&dir, e, &entries)?;
        super::write_atomic(&dir.join("report.html"), html.as_bytes())?;
    }
    let md = super::markdown::index_md(&entries);
    super::write_atomic(&out.join("index.md"), md.as_bytes())?;
    super::write_atomic(
        &out.join("index.html"),
        index_page(out, &md, &entries).as_bytes(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_the_text_between_title_and_first_section() {
        let md = "# x\n\nFirst *line*\nwrapped.\n\nSecond.\n\n## What it models\n\nNot this.\n";
        assert_eq!(description(md), "First line wrapped. Second.");
    }

    #[test]
    fn markdown_pages_link_to_their_html_renderings() {
        assert_eq!(html_target("a/report.md"), "a/report.html");
        assert_eq!(html_target("index.md"), "index.html");
        assert_eq!(
            html_target("https://x.org/report.md"),
            "https://x.org/report.md"
        );
        assert_eq!(html_target("a/curve.csv"), "a/curve.csv");
    }

    #[test]
    fn raw_html_in_markdown_is_shown_as_text() {
        let dir = std::env::temp_dir();
        let r = Render {
            dir: &dir,
            inline_svg: false,
        };
        let body = r.body("# t\n\nA <script>alert(1)</script> & <b>b</b>\n\n<div>x</div>\n");
        assert!(!body.html.contains("<script>"), "{}", body.html);
        assert!(!body.html.contains("<div>"), "{}", body.html);
        assert!(body.html.contains("&lt;script&gt;"), "{}", body.html);
    }

    #[test]
    fn tables_scroll_in_a_wrapper_and_sections_get_anchors() {
        let dir = std::env::temp_dir();
        let r = Render {
            dir: &dir,
            inline_svg: false,
        };
        let body =
            r.body("## Best setting, per budget\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Table\n");
        assert!(
            body.html.contains("<div class=\"table-wrap\"><table>"),
            "{}",
            body.html
        );
        assert!(
            body.html.contains("<h2 id=\"best-setting-per-budget\">"),
            "{}",
            body.html
        );
        assert_eq!(body.sections.len(), 2);
    }

    #[test]
    fn folder_names_are_escaped_in_links() {
        assert_eq!(href("a b\"<"), "a%20b%22%3C");
        assert_eq!(href("lan-pair_2.x"), "lan-pair_2.x");
    }
}
