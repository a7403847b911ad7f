//! `jianfu poster`: the QR poster for the entry URL, as an A4 SVG.

use std::path::Path;

use super::CliError;
use qrcode::{Color, EcLevel, QrCode};

pub fn run(
    dir: &Path,
    config: Option<&Path>,
    out: &Path,
    url: Option<&str>,
) -> Result<(), CliError> {
    let url = match url {
        Some(u) => u.to_string(),
        None => crate::configuration::Settings::load(dir, config, None)?.public_url + "/",
    };
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let svg = match ext {
        "svg" => poster_svg(&url)?,
        "png" => {
            return Err(CliError::Usage(
                "PNG posters are not available yet; write an .svg (print it, or convert it with any SVG tool)".into(),
            ))
        }
        _ => return Err(CliError::Usage("--out must end in .svg or .png".into())),
    };
    std::fs::write(out, svg).map_err(CliError::io(out.display()))?;
    println!("Wrote the poster for {url} to {}", out.display());
    Ok(())
}

/// An A4 page (210 × 297 mm): title, the QR code, the URL as text, what to report and the
/// promise.
pub fn poster_svg(url: &str) -> Result<String, CliError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| CliError::Usage(format!("cannot encode {url} as a QR code: {e}")))?;
    let width = code.width();
    let mut path = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % width + 4, i / width + 4));
        }
    }
    let modules = width + 8;
    let size = 130.0;
    let x = (210.0 - size) / 2.0;
    Ok(format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">
<rect width="210" height="297" fill="#fff"/>
<g font-family="'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif" text-anchor="middle" fill="#111">
<text x="105" y="42" font-size="22" font-weight="bold">减负码</text>
<text x="105" y="58" font-size="7.5">村（社区）干部、网格员：遇到清单外事项、口头布置、违规开证明、</text>
<text x="105" y="68" font-size="7.5">重复填表报数、过多督查考核，扫码匿名反映。</text>
<svg x="{x}" y="80" width="{size}" height="{size}" viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges"><rect width="{modules}" height="{modules}" fill="#fff"/><path d="{path}" fill="#000"/></svg>
<text x="105" y="222" font-size="6" font-family="monospace">{url}</text>
<text x="105" y="240" font-size="6.5">凭纸质减负凭证上的编码提交，凭证与内容不关联。</text>
<text x="105" y="250" font-size="6.5">不反馈、不留痕：不记录IP、设备和提交时间，不回复任何信息。</text>
<text x="105" y="260" font-size="6.5">处理结果体现在工作的变化中，已叫停事项在平台公示。</text>
<text x="105" y="275" font-size="5" fill="#555">建议用手机自带浏览器打开，不要在微信里直接填写。</text>
</g>
</svg>
"##,
        url = xml_escape(url),
    ))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
