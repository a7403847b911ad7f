//! The QR poster for the office wall: the entry URL as a QR code, the 减负码 title, what to
//! report and the promise; A4 or A3, as SVG or PNG (the SVG rasterized with resvg and the
//! system's CJK fonts). The same URL for everybody (SPEC §3.2).

use qrcode::{Color, EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("cannot encode {0} as a QR code")]
    Encode(String),
    #[error("cannot render the poster: {0}")]
    Render(String),
}

/// Paper sizes; both are ISO 216, so one layout scales to either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaperSize {
    #[default]
    A4,
    A3,
}

impl PaperSize {
    /// Width and height in millimetres.
    fn mm(self) -> (u32, u32) {
        match self {
            PaperSize::A4 => (210, 297),
            PaperSize::A3 => (297, 420),
        }
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `text` as a QR code: an `<svg>` element (with its quiet zone) filling `x, y, size`.
pub fn qr_svg(text: &str, x: u32, y: u32, size: u32) -> Result<String, PosterError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|_| PosterError::Encode(text.to_string()))?;
    let width = code.width();
    let mut path = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % width + 4, i / width + 4));
        }
    }
    let modules = width + 8;
    Ok(format!(
        r##"<svg x="{x}" y="{y}" width="{size}" height="{size}" viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg"><rect width="{modules}" height="{modules}" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}

/// The poster as SVG. The layout is drawn in A4 units (210 × 297) and scaled to the paper.
pub fn svg(url: &str, size: PaperSize) -> Result<String, PosterError> {
    let qr = qr_svg(url, 40, 76, 130)?;
    let (w, h) = size.mm();
    // The URL in text stays on one line inside the page: DejaVu Sans Mono advances 0.602 em.
    let url_size = (190.0 / (0.602 * url.chars().count().max(1) as f64)).min(6.0);
    Ok(format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 210 297">
<rect width="210" height="297" fill="#fff"/>
<rect x="0" y="0" width="210" height="16" fill="#a3262a"/>
<g font-family="Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Zen Hei, Microsoft YaHei, sans-serif" text-anchor="middle" fill="#111">
<text x="105" y="42" font-size="22" font-weight="bold">减负码</text>
<text x="105" y="57" font-size="7">村（社区）干部、网格员：遇到清单外事项、口头布置、</text>
<text x="105" y="67" font-size="7">违规开证明、重复填表报数、过多督查考核，扫码匿名反映。</text>
{qr}
<text x="105" y="218" font-size="{url_size:.2}" font-family="DejaVu Sans Mono, monospace">{url}</text>
<text x="105" y="234" font-size="6.5">凭纸质减负凭证上的编码提交，每张凭证只用一次。</text>
<text x="105" y="249" font-size="9.5" font-weight="bold" fill="#a3262a">不反馈、不留痕、凭证与内容不关联</text>
<text x="105" y="262" font-size="6">不记录IP、设备和提交时间，不回复任何信息；</text>
<text x="105" y="271" font-size="6">处理结果体现在工作的变化中，已叫停事项在平台公示。</text>
<text x="105" y="285" font-size="5" fill="#555">建议用手机自带浏览器打开，不要在微信里直接填写。</text>
</g>
</svg>
"##,
        url = xml_escape(url),
    ))
}

/// The poster as PNG at 150 dots per inch. The system fonts are memory-mapped (resvg's
/// `memmap-fonts`): read into memory, the CJK collections made layout take 1.5 s instead of 30 ms.
pub fn png(url: &str, size: PaperSize) -> Result<Vec<u8>, PosterError> {
    let svg = svg(url, size)?;
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_str(&svg, &options)
        .map_err(|e| PosterError::Render(e.to_string()))?;
    let (w_mm, h_mm) = size.mm();
    let dots = |mm: u32| (mm as f32 / 25.4 * 150.0).round() as u32;
    let (w, h) = (dots(w_mm), dots(h_mm));
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| PosterError::Render("empty page".into()))?;
    let scale = w as f32 / tree.size().width();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PosterError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_carries_the_url_escaped_and_the_paper_size() {
        let s = svg("https://jf.example.org/?a=1&b=2", PaperSize::A3).unwrap();
        assert!(s.contains("https://jf.example.org/?a=1&amp;b=2"));
        assert!(s.contains("width=\"297mm\" height=\"420mm\""));
        assert!(s.contains("减负码"));
    }
}
