//! Text for `fdsim detectors`: the catalogue of detector kinds and the
//! detail page of one.

use super::registry::{kinds, DetectorKind, ParamSpec, ParamUnit};
use std::fmt::Write;

fn default_text(p: &ParamSpec) -> String {
    match p.default {
        Some(v) => p.unit.format(v),
        None => "required".into(),
    }
}

fn unit_text(u: ParamUnit) -> &'static str {
    match u {
        ParamUnit::Duration => "duration",
        ParamUnit::Number => "number",
        ParamUnit::Count => "count",
    }
}

/// One line per kind: name, swept parameter, summary.
pub fn catalogue() -> String {
    let width = kinds().iter().map(|k| k.name.len()).max().unwrap_or(0);
    let swidth = kinds()
        .iter()
        .map(|k| k.swept.name.len())
        .max()
        .unwrap_or(0)
        + 2;
    let mut s = String::from(
        "Detectors (kind = \"...\" in [[detectors]]; the swept parameter in brackets):\n\n",
    );
    for k in kinds() {
        let swept = format!("[{}]", k.swept.name);
        let _ = writeln!(s, "  {:<width$}  {swept:<swidth$}  {}", k.name, k.summary);
    }
    s.push_str("\nDetails, parameters and sources: fdsim detectors NAME\n");
    s
}

/// The detail page of one kind.
pub fn detail(k: &DetectorKind) -> String {
    let mut s = format!("{}: {}\n\nsource: {}\n\n", k.name, k.summary, k.source);
    let _ = writeln!(
        s,
        "swept parameter (one value, a list, or {{ from, to, steps, spacing }}):\n  {} ({}, {}, default {}): {}",
        k.swept.name,
        unit_text(k.swept.unit),
        k.swept.range_text(),
        default_text(&k.swept),
        k.swept.doc
    );
    if k.threshold_dependent {
        s.push_str(
            "  (its state depends on this value; the scorer shares one instance among values until \
             an arrival splits them, all on the same arrivals)\n",
        );
    }
    if !k.params.is_empty() {
        s.push_str("\nother parameters:\n");
        for p in k.params {
            let _ = writeln!(
                s,
                "  {} ({}, {}, default {}): {}",
                p.name,
                unit_text(p.unit),
                p.range_text(),
                default_text(p),
                p.doc
            );
        }
    }
    let _ = write!(
        s,
        "\nexample:\n  [[detectors]]\n  kind = \"{}\"\n  {} = ",
        k.name, k.swept.name
    );
    s.push_str(&example_sweep(k));
    s.push('\n');
    s
}

/// A sweep around the default that the parameter's range accepts.
fn example_sweep(k: &DetectorKind) -> String {
    let spec = &k.swept;
    match (spec.unit, spec.default) {
        (ParamUnit::Duration, _) => "[\"150ms\", \"250ms\", \"500ms\"]".into(),
        (_, Some(d)) => {
            let hi = (d * 2.0).min(spec.max);
            let lo = (d / 2.0).max(spec.min).min(hi / 2.0);
            format!(
                "{{ from = {}, to = {}, steps = 8 }}",
                super::registry::number_text(lo),
                super::registry::number_text(hi)
            )
        }
        (_, None) => "[1, 2, 4]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_lists_every_kind_and_detail_every_parameter() {
        let c = catalogue();
        for k in kinds() {
            assert!(c.contains(k.name), "{}", k.name);
            let d = detail(k);
            for p in std::iter::once(&k.swept).chain(k.params) {
                assert!(
                    d.contains(p.name) && d.contains(p.doc),
                    "{}.{}",
                    k.name,
                    p.name
                );
            }
            assert!(d.contains(k.source));
            // The example must validate.
            let example = d.split("example:\n").nth(1).unwrap();
            let text = format!(
                "duration = \"1h\"\n[heartbeat]\ninterval = \"100ms\"\n[network]\n\
                 latency = {{ dist = \"constant\", value = \"1ms\" }}\n{}",
                example.replace("\n  ", "\n")
            );
            crate::scenario::Scenario::parse(std::path::Path::new("x.toml"), &text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", k.name));
        }
    }
}
