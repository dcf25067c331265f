//! The building blocks of every page, reusable by any page or report: numbers in French,
//! a value cell ("secret" when hidden), a table, a key figure, a line chart and a bar chart
//! drawn as SVG on the server with their text alternative and the numbers in a table.

use maud::{Markup, html};

use super::cube::{Cell, Point};

/// A number in French notation: thousands grouped by a narrow no-break space, a decimal
/// comma, `decimals` digits after it (`12 345,6`).
pub fn number(value: f64, decimals: u32) -> String {
    let text = format!("{:.*}", decimals as usize, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

/// How a cell reads in a table: the number, "secret" (marked, with an explanation for
/// assistive technologies), or a dash for no value.
pub fn cell(value: Cell, decimals: u32) -> Markup {
    match value {
        Cell::Value(v) => html! { (number(v, decimals)) },
        Cell::Secret => html! {
            span.pl-secret title="Valeur couverte par le secret statistique" { "secret" }
        },
        Cell::Missing => html! {
            span.pl-missing title="Sans objet ou non calculable" { "—" }
        },
    }
}

/// A table of figures in the design system's frame: `caption`, column `headers` (the first
/// column's cells are row headers), `rows` of cells; numbers are right-aligned.
pub fn table(caption: &str, headers: &[String], rows: &[Vec<Markup>]) -> Markup {
    framed_table("pl-table pl-table--num", caption, headers, rows)
}

/// A table of text (descriptions, definitions): left-aligned, long cells wrap.
pub fn text_table(caption: &str, headers: &[String], rows: &[Vec<Markup>]) -> Markup {
    framed_table("pl-table pl-table--text", caption, headers, rows)
}

fn framed_table(class: &str, caption: &str, headers: &[String], rows: &[Vec<Markup>]) -> Markup {
    html! {
        div class={"fr-table fr-table--no-caption " (class)} {
            // A wide table scrolls: its container takes the focus so that the keyboard scrolls it too.
            div.fr-table__wrapper { div.fr-table__container tabindex="0" role="region" aria-label=(caption) { div.fr-table__content {
                table {
                    caption { (caption) }
                    thead { tr { @for h in headers { th scope="col" { (h) } } } }
                    tbody {
                        @for row in rows {
                            tr {
                                @for (i, c) in row.iter().enumerate() {
                                    @if i == 0 { th scope="row" { (c) } } @else { td { (c) } }
                                }
                            }
                        }
                    }
                }
            } } }
        }
    }
}

/// A key figure: its label, its value, and a line below it (the change from the year before,
/// or why there is none).
pub fn key_figure(label: &str, value: Markup, below: &str) -> Markup {
    html! {
        div.pl-kpi {
            p.pl-kpi__label { (label) }
            p.pl-kpi__value { (value) }
            p.pl-kpi__below { (below) }
        }
    }
}

/// One line of a line chart: its label and the decimals of its values.
#[derive(Debug, Clone)]
pub struct Line {
    /// Label in the legend and the table.
    pub label: String,
    /// Decimals shown.
    pub decimals: u32,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// A maximum at or above `max` that reads well on an axis (1, 2, 2.5 or 5 × 10ⁿ).
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let exp = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * exp >= max {
            return step * exp;
        }
    }
    10.0 * exp
}

/// The note under a chart with secret values.
pub const SECRET_NOTE: &str = "Une valeur « secret » est couverte par le secret statistique: \
elle n'est pas nulle, elle n'est pas publiée. Elle apparaît comme une interruption de la courbe \
sur fond hachuré, ou comme une barre hachurée.";

/// A line chart over periods: one line per entry of `lines`, the cells of each point in the
/// same order. A secret value is a gap in its line over a hatched band (never a zero), and the
/// numbers follow in a table. `id` must be unique in the page.
pub fn line_chart(id: &str, title: &str, unit: &str, lines: &[Line], points: &[Point]) -> Markup {
    let n = points.len();
    let any_published = points
        .iter()
        .any(|p| p.cells.iter().any(|c| c.value().is_some()));
    let secret_periods: Vec<&str> = points
        .iter()
        .filter(|p| p.cells.contains(&Cell::Secret))
        .map(|p| p.period.as_str())
        .collect();
    let data = line_table(title, unit, lines, points);
    html! {
        figure.pl-chart id=(id) {
            h3.fr-h6 id={(id) "-titre"} { (title) }
            @if n == 0 {
                p.pl-empty { "Aucune donnée publiée pour ce territoire." }
            } @else if !any_published {
                p.pl-empty {
                    "Toutes les valeurs de ce graphique sont couvertes par le secret statistique pour ce territoire: "
                    "elles ne sont pas nulles, elles ne sont pas publiées."
                }
                (data)
            } @else {
                (line_svg(id, unit, lines, points, &secret_periods))
                @if lines.len() > 1 {
                    ul.pl-legend {
                        @for (l, line) in lines.iter().enumerate() {
                            li { span class={"pl-swatch pl-swatch--" (l)} aria-hidden="true" {} (line.label) }
                        }
                    }
                }
                @if !secret_periods.is_empty() {
                    p.pl-note.fr-text--sm { (SECRET_NOTE) }
                }
                (data)
            }
        }
    }
}

/// The plot area of a line chart of `n` points whose axis tops at `top`: where a point and a
/// value stand, in SVG user units.
struct LineFrame {
    n: usize,
    top: f64,
    plot_w: f64,
    plot_h: f64,
    step: f64,
}

impl LineFrame {
    fn new(points: &[Point]) -> LineFrame {
        let n = points.len();
        let max = points
            .iter()
            .flat_map(|p| p.cells.iter().filter_map(|c| c.value()))
            .fold(0.0f64, f64::max);
        let plot_w = WIDTH - LEFT - RIGHT;
        LineFrame {
            n,
            top: nice_max(max),
            plot_w,
            plot_h: HEIGHT - TOP - BOTTOM,
            step: if n > 1 { plot_w / (n - 1) as f64 } else { 0.0 },
        }
    }

    /// Abscissa of point `i`.
    fn x(&self, i: usize) -> f64 {
        if self.n > 1 {
            LEFT + self.step * i as f64
        } else {
            LEFT + self.plot_w / 2.0
        }
    }

    /// Ordinate of value `v`.
    fn y(&self, v: f64) -> f64 {
        TOP + self.plot_h - (v / self.top) * self.plot_h
    }

    /// Width of the hatched band of a secret period.
    fn band(&self) -> f64 {
        if self.n > 1 {
            self.step.clamp(6.0, 28.0)
        } else {
            24.0
        }
    }
}

/// Line `l` of a chart: the SVG paths of its runs of published values, and the points
/// standing alone between secret or missing ones.
fn line_paths(l: usize, points: &[Point], frame: &LineFrame) -> (Vec<String>, Vec<(f64, f64)>) {
    let mut segments = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut alone = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match p.cells.get(l).copied().and_then(Cell::value) {
            Some(v) => current.push((frame.x(i), frame.y(v))),
            None => {
                if current.len() == 1 {
                    alone.push(current[0]);
                }
                if current.len() > 1 {
                    segments.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() == 1 {
        alone.push(current[0]);
    } else if current.len() > 1 {
        segments.push(current);
    }
    let paths = segments
        .iter()
        .map(|s| {
            let mut d = String::new();
            for (k, (px, py)) in s.iter().enumerate() {
                d.push_str(&format!(
                    "{}{px:.1},{py:.1}",
                    if k == 0 { "M" } else { " L" }
                ));
            }
            d
        })
        .collect();
    (paths, alone)
}

/// The text alternative of a line chart: what is drawn, over which periods, which are secret.
fn line_description(unit: &str, lines: &[Line], points: &[Point], secret: &[&str]) -> String {
    let n = points.len();
    if n == 0 {
        return "Aucune donnée publiée pour ce graphique.".to_owned();
    }
    let first = points.first().map(|p| p.period.as_str()).unwrap_or("");
    let last = points.last().map(|p| p.period.as_str()).unwrap_or("");
    let names: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
    let mut d = format!(
        "Courbe{} de {} ({unit}), de {} à {}, {} périodes.",
        if lines.len() > 1 { "s" } else { "" },
        names.join(" et "),
        period_label(first),
        period_label(last),
        n
    );
    if secret.is_empty() {
        d.push_str(" Aucune valeur secrète.");
    } else {
        d.push_str(&format!(
            " Valeurs secrètes (interruptions de la courbe): {}.",
            secret
                .iter()
                .map(|p| period_label(p))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    d.push_str(" Les valeurs figurent dans le tableau qui suit.");
    d
}

/// The numbers of a line chart, in a table folded under the chart.
fn line_table(title: &str, unit: &str, lines: &[Line], points: &[Point]) -> Markup {
    let headers: Vec<String> = std::iter::once("Période".to_owned())
        .chain(lines.iter().map(|l| format!("{} ({unit})", l.label)))
        .collect();
    let rows: Vec<Vec<Markup>> = points
        .iter()
        .map(|p| {
            std::iter::once(html! { (period_label(&p.period)) })
                .chain(lines.iter().enumerate().map(|(l, line)| {
                    cell(
                        p.cells.get(l).copied().unwrap_or(Cell::Missing),
                        line.decimals,
                    )
                }))
                .collect()
        })
        .collect();
    html! {
        details.pl-data {
            summary { "Tableau des données: " (title) }
            (table(title, &headers, &rows))
        }
    }
}

/// The SVG of a line chart with at least one published value: grid, hatched bands of the
/// secret periods, period labels, lines and lone points.
fn line_svg(id: &str, unit: &str, lines: &[Line], points: &[Point], secret: &[&str]) -> Markup {
    let frame = LineFrame::new(points);
    let (n, top, band) = (frame.n, frame.top, frame.band());
    let marks: Vec<_> = (0..lines.len())
        .map(|l| line_paths(l, points, &frame))
        .collect();
    let description = line_description(unit, lines, points, secret);
    let label_every = n.div_ceil(8).max(1);
    html! {
        svg viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img"
            aria-labelledby={(id) "-titre " (id) "-desc"} class="pl-svg" {
            desc id={(id) "-desc"} { (description) }
            defs {
                pattern id={(id) "-hachures"} width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    line x1="0" y1="0" x2="0" y2="8" class="pl-hatch-line" {}
                }
            }
            @for t in [0.0, 0.5, 1.0] {
                line.pl-grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(format!("{:.1}", frame.y(top * t))) y2=(format!("{:.1}", frame.y(top * t))) {}
                text.pl-axis x=(LEFT - 6.0) y=(format!("{:.1}", frame.y(top * t) + 4.0)) text-anchor="end" { (number(top * t, if top < 10.0 { 1 } else { 0 })) }
            }
            @for (i, p) in points.iter().enumerate() {
                @if p.cells.contains(&Cell::Secret) {
                    rect.pl-secret-band data-secret-period=(p.period)
                        x=(format!("{:.1}", frame.x(i) - band / 2.0)) y=(TOP) width=(format!("{band:.1}")) height=(frame.plot_h)
                        fill={"url(#" (id) "-hachures)"} {}
                }
                @if i % label_every == 0 {
                    text.pl-axis x=(format!("{:.1}", frame.x(i))) y=(HEIGHT - 10.0) text-anchor=(if n > 1 && i + 1 == n { "end" } else if n > 1 && i == 0 { "start" } else { "middle" }) { (short_period(&p.period)) }
                }
            }
            @for (l, (segments, dots)) in marks.iter().enumerate() {
                @for d in segments {
                    path class={"pl-line pl-line--" (l)} d=(d) {}
                }
                @for (px, py) in dots {
                    circle class={"pl-dot pl-dot--" (l)} cx=(format!("{px:.1}")) cy=(format!("{py:.1}")) r="3.5" {}
                }
            }
        }
    }
}

/// A horizontal bar chart of one measure over categories (`rows`: label and cell). A secret
/// value is a hatched bar marked "secret", never a zero. `id` must be unique in the page.
pub fn bar_chart(
    id: &str,
    title: &str,
    unit: &str,
    decimals: u32,
    rows: &[(String, Cell)],
) -> Markup {
    let max = rows
        .iter()
        .filter_map(|(_, c)| c.value())
        .fold(0.0f64, f64::max);
    let top = nice_max(max);
    let bar_h = 22.0;
    let gap = 10.0;
    let left = 250.0;
    let plot_w = WIDTH - left - 90.0;
    let height = TOP + rows.len() as f64 * (bar_h + gap) + 4.0;
    let secrets = rows.iter().filter(|(_, c)| *c == Cell::Secret).count();
    let description = format!(
        "Barres de {title} ({unit}) pour {} catégories{}. Les valeurs figurent dans le tableau qui suit.",
        rows.len(),
        if secrets > 0 {
            format!(", dont {secrets} secrètes (barres hachurées)")
        } else {
            String::new()
        }
    );
    let headers = vec!["Catégorie".to_owned(), format!("{title} ({unit})")];
    let table_rows: Vec<Vec<Markup>> = rows
        .iter()
        .map(|(label, c)| vec![html! { (label) }, cell(*c, decimals)])
        .collect();
    html! {
        figure.pl-chart id=(id) {
            h3.fr-h6 id={(id) "-titre"} { (title) }
            @if rows.is_empty() {
                p.pl-empty { "Aucune donnée publiée pour ce territoire." }
            } @else {
                svg viewBox={"0 0 " (WIDTH) " " (format!("{height:.0}"))} role="img"
                    aria-labelledby={(id) "-titre " (id) "-desc"} class="pl-svg" {
                    desc id={(id) "-desc"} { (description) }
                    defs {
                        pattern id={(id) "-hachures"} width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                            line x1="0" y1="0" x2="0" y2="8" class="pl-hatch-line" {}
                        }
                    }
                    @for (i, (label, c)) in rows.iter().enumerate() {
                        @let y = TOP + i as f64 * (bar_h + gap);
                        text.pl-axis x=(left - 8.0) y=(format!("{:.1}", y + bar_h * 0.7)) text-anchor="end" { (label) }
                        @match c {
                            Cell::Value(v) => {
                                rect.pl-bar x=(left) y=(format!("{y:.1}")) width=(format!("{:.1}", (v / top * plot_w).max(1.0))) height=(bar_h) {}
                                text.pl-axis x=(format!("{:.1}", left + (v / top * plot_w).max(1.0) + 6.0)) y=(format!("{:.1}", y + bar_h * 0.7)) { (number(*v, decimals)) }
                            }
                            Cell::Secret => {
                                rect.pl-bar-secret data-secret-category=(label) x=(left) y=(format!("{y:.1}")) width=(format!("{:.1}", plot_w * 0.25)) height=(bar_h) fill={"url(#" (id) "-hachures)"} {}
                                text.pl-axis x=(format!("{:.1}", left + plot_w * 0.25 + 6.0)) y=(format!("{:.1}", y + bar_h * 0.7)) { "secret" }
                            }
                            Cell::Missing => {
                                text.pl-axis x=(left + 6.0) y=(format!("{:.1}", y + bar_h * 0.7)) { "—" }
                            }
                        }
                    }
                }
                @if secrets > 0 {
                    p.pl-note.fr-text--sm { (SECRET_NOTE) }
                }
                details.pl-data {
                    summary { "Tableau des données: " (title) }
                    (table(title, &headers, &table_rows))
                }
            }
        }
    }
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

/// A period code in words: `2025-03` → "mars 2025", `2025-T1` → "1er trimestre 2025",
/// `2025` → "2025".
pub fn period_label(code: &str) -> String {
    if let Some((year, q)) = code.split_once("-T") {
        return if q == "1" {
            format!("1er trimestre {year}")
        } else {
            format!("{q}e trimestre {year}")
        };
    }
    if let Some((year, m)) = code.split_once('-')
        && let Ok(m) = m.parse::<usize>()
        && (1..=12).contains(&m)
    {
        return format!("{} {year}", MONTHS[m - 1]);
    }
    code.to_owned()
}

/// A short period label for an axis: `2025-03` → "mars 25", `2025-T1` → "T1 25".
fn short_period(code: &str) -> String {
    let yy = |y: &str| y.get(2..).unwrap_or(y).to_owned();
    if let Some((year, q)) = code.split_once("-T") {
        return format!("T{q} {}", yy(year));
    }
    if let Some((year, m)) = code.split_once('-')
        && let Ok(m) = m.parse::<usize>()
        && (1..=12).contains(&m)
    {
        return format!("{} {}", MONTHS_SHORT[m - 1], yy(year));
    }
    code.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_french_way() {
        assert_eq!(number(0.0, 0), "0");
        assert_eq!(number(1234567.0, 0), "1\u{202f}234\u{202f}567");
        assert_eq!(number(12.345, 1), "12,3");
        assert_eq!(number(-1234.5, 2), "−1\u{202f}234,50");
        assert_eq!(number(-0.001, 1), "0,0");
        assert_eq!(period_label("2025-T1"), "1er trimestre 2025");
        assert_eq!(period_label("2025-03"), "mars 2025");
    }

    #[test]
    fn a_secret_value_is_a_gap_and_a_hatched_band_never_a_zero() {
        let points: Vec<Point> = ["2025-01", "2025-02", "2025-03", "2025-04"]
            .iter()
            .zip([
                Cell::Value(10.0),
                Cell::Secret,
                Cell::Value(12.0),
                Cell::Value(14.0),
            ])
            .map(|(p, c)| Point {
                period: (*p).to_owned(),
                cells: vec![c],
            })
            .collect();
        let lines = [Line {
            label: "Embauches".into(),
            decimals: 0,
        }];
        let html = line_chart("c", "Embauches", "personnes", &lines, &points).into_string();
        assert!(html.contains("data-secret-period=\"2025-02\""));
        // One isolated dot before the gap, one segment after it.
        assert_eq!(html.matches("<path").count(), 1);
        assert_eq!(html.matches("<circle").count(), 1);
        assert!(html.contains(">secret<"));
        assert!(html.contains(SECRET_NOTE));
    }
}
