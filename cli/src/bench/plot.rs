//! The latency-against-throughput plot of a report (PNG), with an embedded font so it
//! draws the same on any machine.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::report::Report;

pub(crate) fn draw(path: &Path, report: &Report) -> anyhow::Result<()> {
    let points: Vec<(f64, f64)> = report.curves.iter().flat_map(|c| c.points.clone()).collect();
    anyhow::ensure!(!points.is_empty(), "this scenario has no latency curve to plot");
    register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow::anyhow!("cannot load the embedded font"))?;
    let max_x = points.iter().map(|p| p.0).fold(0.0, f64::max) * 1.1;
    let max_y = points.iter().map(|p| p.1).fold(0.0, f64::max) * 1.2;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&report.title, ("sans-serif", 16))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_x.max(1.0), 0.0..max_y.max(0.1))?;
    chart
        .configure_mesh()
        .x_desc(report.throughput)
        .y_desc("latency (ms)")
        .label_style(("sans-serif", 13))
        .draw()?;
    let colors = [BLUE, RED, GREEN, MAGENTA];
    for (curve, color) in report.curves.iter().zip(colors.iter().cycle()) {
        let color = *color;
        chart
            .draw_series(LineSeries::new(curve.points.clone(), color.stroke_width(2)))?
            .label(curve.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        chart.draw_series(curve.points.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()?;
    root.present().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
