//! Issue #4: the QR poster's code decodes to the entry URL, from the PNG, for `--url` and for
//! the configured `public_url`; the SVG carries the URL and the title.

use crate::helpers::spawn_app;

/// Decodes the one QR code in a PNG.
fn decode(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let i = (y * w + x) * channels;
        buf[i]
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the poster");
    grids[0].decode().unwrap().1
}

#[test]
fn the_png_poster_decodes_to_the_entry_url() {
    let app = spawn_app();
    let out = app.dir.path().join("poster.png");
    app.cli_ok(
        &[
            "poster",
            "--out",
            out.to_str().unwrap(),
            "--url",
            "https://jf.example.org/",
        ],
        "",
    );
    assert_eq!(
        decode(&std::fs::read(&out).unwrap()),
        "https://jf.example.org/"
    );
    // The default is the configured public_url, on A3 too.
    let a3 = app.dir.path().join("poster-a3.png");
    let status = std::process::Command::new(crate::helpers::bin())
        .args(["poster", "--size", "a3", "--out", a3.to_str().unwrap()])
        .env("JIANFU_DATA_DIR", app.data_dir())
        .env("JIANFU_PUBLIC_URL", "https://jianfu.county.example.cn")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        decode(&std::fs::read(&a3).unwrap()),
        "https://jianfu.county.example.cn/"
    );
}

#[test]
fn the_svg_poster_carries_the_url_and_an_unknown_format_is_one_line() {
    let app = spawn_app();
    let svg = app.dir.path().join("poster.svg");
    app.cli_ok(
        &[
            "poster",
            "--out",
            svg.to_str().unwrap(),
            "--url",
            "https://jf.example.org/",
        ],
        "",
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("https://jf.example.org/") && text.contains("减负码"));
    assert!(
        text.contains("不反馈、不留痕、凭证与内容不关联"),
        "the promise"
    );
    // The default is public_url + "/".
    let status = std::process::Command::new(crate::helpers::bin())
        .args(["poster", "--out", svg.to_str().unwrap()])
        .env("JIANFU_DATA_DIR", app.data_dir())
        .env("JIANFU_PUBLIC_URL", "https://jf.example.org")
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read_to_string(&svg)
        .unwrap()
        .contains(">https://jf.example.org/<"));
    let out = app.cli(
        &[
            "poster",
            "--out",
            svg.to_str().unwrap(),
            "--url",
            "jf.example.org",
        ],
        "",
    );
    assert!(
        !out.status.success(),
        "a --url that is not http(s) is refused"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    let out = app.cli(
        &[
            "poster",
            "--out",
            app.dir.path().join("p.pdf").to_str().unwrap(),
        ],
        "",
    );
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}
