//! Encodings of a report: CSV (one line per figure) and a printable French HTML page. One
//! function per report page so that its presentation can change in one place.

use super::{Line, ReportBody};

/// The columns of the CSV encoding, in order.
pub const CSV_COLUMNS: [&str; 10] = [
    "section",
    "id",
    "libelle",
    "territoire",
    "periode",
    "valeur",
    "unite",
    "source",
    "mesure",
    "filtre",
];

/// `text` as one CSV field.
#[cfg(test)]
fn csv_field(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_csv_field(&mut out, text);
    out
}

/// Appends `text` to `out` as one CSV field (quoted when it holds a comma, a quote or a line
/// break), without an intermediate string when it needs no quoting.
fn push_csv_field(out: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// A value as text: the shortest decimal that reads back as the value; empty for null.
fn number(v: Option<f64>) -> String {
    v.map(|x| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        }
    })
    .unwrap_or_default()
}

/// The report as CSV (UTF-8, comma, header line, CRLF-free): one row per line, preceded by
/// none of the report's metadata (the `Pilotage-Release` header and the file name carry it).
pub fn csv(report: &ReportBody) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    for l in &report.lines {
        let fields = [
            l.section.as_str(),
            l.id.as_str(),
            l.label.as_str(),
            l.territoire.as_str(),
            l.periode.as_str(),
            &number(l.value),
            l.unit.as_str(),
            l.source,
            l.measure.as_str(),
            l.filter.as_str(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_csv_field(&mut out, f);
        }
        out.push('\n');
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number in French notation (`1 234,5`), `—` for null (not applicable, not defined over
/// the period, or hidden in the public release).
fn french(v: Option<f64>, unit: &str) -> String {
    let Some(x) = v else {
        return "—".to_owned();
    };
    let text = number(Some(x));
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    let mut out = format!("{sign}{grouped}");
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    if unit == "%" {
        out.push_str("\u{a0}%");
    }
    out
}

fn page(report: &ReportBody, sections: &str) -> String {
    let period = if report.month == 12 {
        format!("année {}", report.year)
    } else {
        format!("janvier à {:02}/{} ", report.month, report.year)
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
<style>\nbody{{font-family:Marianne,Arial,sans-serif;margin:2rem;color:#161616}}\n\
table{{border-collapse:collapse;width:100%;margin-bottom:1.5rem}}\n\
th,td{{border:1px solid #ddd;padding:.3rem .5rem;text-align:left}}\n\
td.v{{text-align:right;white-space:nowrap}}\nh2{{margin-top:2rem;font-size:1.2rem}}\n\
.meta{{color:#555}}\n@media print{{body{{margin:0}} h2{{break-after:avoid}} tr{{break-inside:avoid}}}}\n\
</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p class=\"meta\">Périmètre&nbsp;: {perimeter} · Période&nbsp;: {period} · \
Publication {release}. Chiffres non protégés réservés au titulaire de la clé; colonnes «&nbsp;public&nbsp;» issues \
de la publication ouverte protégée (— : non diffusé ou sans objet). Définitions&nbsp;: docs/reports.md.</p>\n{sections}</body>\n</html>\n",
        title = escape(&report.title),
        perimeter = escape(&report.perimeter),
        release = escape(&report.release),
    )
}

fn sections(lines: &[Line]) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for l in lines {
        if current != Some(l.section.as_str()) {
            if current.is_some() {
                out.push_str("</tbody></table>\n");
            }
            out.push_str(&format!(
                "<h2>{}</h2>\n<table><thead><tr><th>Indicateur</th><th>Territoire</th><th>Période</th><th>Valeur</th><th>Unité</th></tr></thead><tbody>\n",
                escape(&l.section)
            ));
            current = Some(l.section.as_str());
        }
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"v\">{}</td><td>{}</td></tr>\n",
            escape(&l.label),
            escape(&l.territoire),
            escape(&l.periode),
            french(l.value, &l.unit),
            escape(&l.unit)
        ));
    }
    if current.is_some() {
        out.push_str("</tbody></table>\n");
    }
    out
}

/// The `structure` report as a printable page.
pub fn structure_html(report: &ReportBody) -> String {
    page(report, &sections(&report.lines))
}

/// The `departement-rsa` report as a printable page.
pub fn departement_rsa_html(report: &ReportBody) -> String {
    page(report, &sections(&report.lines))
}

/// The `territoire` report as a printable page.
pub fn territoire_html(report: &ReportBody) -> String {
    page(report, &sections(&report.lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_french_way() {
        assert_eq!(french(Some(1234.5), "ETP"), "1\u{202f}234,5");
        assert_eq!(french(Some(-12.0), "ETP"), "-12");
        assert_eq!(french(Some(87.5), "%"), "87,5\u{a0}%");
        assert_eq!(french(None, "%"), "—");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
